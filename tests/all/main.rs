//! Integration tests: the real `corral` binary, real components built from
//! source by `corral-test-artifacts`, real files in temporary directories.

mod git;
mod support;
mod terminal;

mod cache;
mod completions;
mod docs;
mod end_to_end;
mod git_metadata;
mod governance;
mod grants;
mod host_files;
mod hostile;
mod init;
mod layering;
mod lifecycle;
mod manifest_errors;
mod modes;
mod new_task;
mod perf;
mod prompt;
mod properties;
mod reliability;
mod repo_context;
mod report;
mod serve;
mod shell_setup;
mod shells;
mod signals;
mod task_state;
mod ui;
mod views;
mod watch;
