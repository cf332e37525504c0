# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_corral_global_optspecs
    string join \n manifest= h/help V/version
end

function __fish_corral_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_corral_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_corral_using_subcommand
    set -l cmd (__fish_corral_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c corral -n "__fish_corral_needs_command" -l manifest -d 'The task manifest [default: $CORRAL_MANIFEST, else ./manifest.toml if it exists, else $XDG_CONFIG_HOME/corral/manifest.toml]' -r -F
complete -c corral -n "__fish_corral_needs_command" -s h -l help -d 'Print help'
complete -c corral -n "__fish_corral_needs_command" -s V -l version -d 'Print version'
complete -c corral -n "__fish_corral_needs_command" -f -a "run" -d 'Run the manifest\'s tasks concurrently and report segment events'
complete -c corral -n "__fish_corral_needs_command" -f -a "bench" -d 'Run the tasks several times in shadow mode; report times, spread, fuel and budgets; compare with a baseline; gate as [perf] says'
complete -c corral -n "__fish_corral_needs_command" -f -a "check" -d 'Validate the manifest and its components; print the manifest checksum'
complete -c corral -n "__fish_corral_needs_command" -f -a "list" -d 'List the manifest\'s tasks with their budgets and grants'
complete -c corral -n "__fish_corral_needs_command" -f -a "build" -d 'Run each task\'s `build` command'
complete -c corral -n "__fish_corral_needs_command" -f -a "result" -d 'Print a task\'s result: the one stored by its last successful run, or with --fresh one that reflects the files as they are now'
complete -c corral -n "__fish_corral_needs_command" -f -a "serve" -d 'Run the per-user server in the foreground: it keeps components and watches warm and answers `corral result --fresh` and prompts'
complete -c corral -n "__fish_corral_needs_command" -f -a "enable" -d 'Re-enable runs after the watchdog turned them off'
complete -c corral -n "__fish_corral_needs_command" -f -a "audit" -d 'Show what every task may do, and flag what a reviewer should look at'
complete -c corral -n "__fish_corral_needs_command" -f -a "lock" -d 'Write each component\'s sha256 pin into the manifest'
complete -c corral -n "__fish_corral_needs_command" -f -a "ack" -d 'Record the manifest as reviewed, for `require_ack`'
complete -c corral -n "__fish_corral_needs_command" -f -a "watch" -d 'Follow a running or finished run in a terminal view (q quits)'
complete -c corral -n "__fish_corral_needs_command" -f -a "report" -d 'Draw a run\'s timeline (one lane per task) from its event file'
complete -c corral -n "__fish_corral_needs_command" -f -a "new" -d 'Create a task from a template beside the manifest and add it to the manifest'
complete -c corral -n "__fish_corral_needs_command" -f -a "init" -d 'Install the shipped components and write a manifest for this machine: $XDG_CONFIG_HOME/corral/manifest.toml (refuses to replace one without --force)'
complete -c corral -n "__fish_corral_needs_command" -f -a "rebaseline" -d 'Run one task once with `--rebaseline`, so that a tamper check (integrity_scan) accepts the current state of what it watches'
complete -c corral -n "__fish_corral_needs_command" -f -a "shell-init" -d 'Print a snippet for a shell\'s rc file that runs the tasks once per shell, after the first prompt, and exposes their results. Without --manifest (or $CORRAL_MANIFEST), for the user manifest `corral init` wrote, never ./manifest.toml'
complete -c corral -n "__fish_corral_needs_command" -f -a "completions" -d 'Print the completion script for corral\'s own command line, for a shell\'s completion directory'
complete -c corral -n "__fish_corral_needs_command" -f -a "man" -d 'Print corral\'s man page (roff): `corral man | man -l -`'
complete -c corral -n "__fish_corral_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c corral -n "__fish_corral_using_subcommand run" -l only -d 'Run only this task (repeatable)' -r
complete -c corral -n "__fish_corral_using_subcommand run" -l mode -d '`on` runs tasks; `shadow` runs them on throw-away copies of their rw grants and stores no results; `off` starts nothing' -r -f -a "on\t''
shadow\t''
off\t''"
complete -c corral -n "__fish_corral_using_subcommand run" -l max-concurrency -d 'Lower the manifest\'s global concurrency cap for this run' -r
complete -c corral -n "__fish_corral_using_subcommand run" -l events -d 'Write events to PATH, or to stdout with `-` (default: stderr)' -r
complete -c corral -n "__fish_corral_using_subcommand run" -l events-format -d 'Event line format' -r -f -a "segment\t'`SEGMENT name=... ms=...` lines, for people and performance tooling'
json\t'One JSON object per line, for tools'"
complete -c corral -n "__fish_corral_using_subcommand run" -l defer-ms -d 'Wait MS milliseconds before starting anything; with --detach the wait happens in the background. Lets a shell hook that runs before the prompt is drawn (bash, fish) start corral without racing the prompt' -r
complete -c corral -n "__fish_corral_using_subcommand run" -l manifest -d 'The task manifest [default: $CORRAL_MANIFEST, else ./manifest.toml if it exists, else $XDG_CONFIG_HOME/corral/manifest.toml]' -r -F
complete -c corral -n "__fish_corral_using_subcommand run" -l build -d 'Run the tasks\' `build` commands first'
complete -c corral -n "__fish_corral_using_subcommand run" -l locked -d 'Refuse any task whose component has no sha256 pin'
complete -c corral -n "__fish_corral_using_subcommand run" -l require-ack -d 'Refuse a manifest that changed since the last `corral ack`'
complete -c corral -n "__fish_corral_using_subcommand run" -s q -l quiet -d 'No live status line on a terminal: only the plain event lines'
complete -c corral -n "__fish_corral_using_subcommand run" -l detach -d 'Return at once and finish the run in the background, detached from the terminal; events go to the --events file, else to a new STATE_DIR/runs/*.events that STATE_DIR/last-run.events links to'
complete -c corral -n "__fish_corral_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c corral -n "__fish_corral_using_subcommand bench" -l only -d 'Bench only this task (repeatable)' -r
complete -c corral -n "__fish_corral_using_subcommand bench" -l samples -d 'How many runs to sample (default: [perf] samples); at least 5' -r
complete -c corral -n "__fish_corral_using_subcommand bench" -l baseline -d 'Compare with a run saved with `corral bench --json > FILE`' -r -F
complete -c corral -n "__fish_corral_using_subcommand bench" -l events-dir -d 'Write each sample\'s events to DIR/sample-N.events (default: nowhere)' -r -F
complete -c corral -n "__fish_corral_using_subcommand bench" -l manifest -d 'The task manifest [default: $CORRAL_MANIFEST, else ./manifest.toml if it exists, else $XDG_CONFIG_HOME/corral/manifest.toml]' -r -F
complete -c corral -n "__fish_corral_using_subcommand bench" -l json -d 'Print the figures as JSON, the format --baseline reads'
complete -c corral -n "__fish_corral_using_subcommand bench" -s h -l help -d 'Print help'
complete -c corral -n "__fish_corral_using_subcommand check" -l manifest -d 'The task manifest [default: $CORRAL_MANIFEST, else ./manifest.toml if it exists, else $XDG_CONFIG_HOME/corral/manifest.toml]' -r -F
complete -c corral -n "__fish_corral_using_subcommand check" -s h -l help -d 'Print help'
complete -c corral -n "__fish_corral_using_subcommand list" -l manifest -d 'The task manifest [default: $CORRAL_MANIFEST, else ./manifest.toml if it exists, else $XDG_CONFIG_HOME/corral/manifest.toml]' -r -F
complete -c corral -n "__fish_corral_using_subcommand list" -s h -l help -d 'Print help'
complete -c corral -n "__fish_corral_using_subcommand build" -l only -d 'Build only this task (repeatable)' -r
complete -c corral -n "__fish_corral_using_subcommand build" -l manifest -d 'The task manifest [default: $CORRAL_MANIFEST, else ./manifest.toml if it exists, else $XDG_CONFIG_HOME/corral/manifest.toml]' -r -F
complete -c corral -n "__fish_corral_using_subcommand build" -s h -l help -d 'Print help'
complete -c corral -n "__fish_corral_using_subcommand result" -l wait-ms -d 'With --fresh: wait at most MS milliseconds, then print the last stored result, marked stale' -r
complete -c corral -n "__fish_corral_using_subcommand result" -l manifest -d 'The task manifest [default: $CORRAL_MANIFEST, else ./manifest.toml if it exists, else $XDG_CONFIG_HOME/corral/manifest.toml]' -r -F
complete -c corral -n "__fish_corral_using_subcommand result" -l fresh -d 'Answer with a result that reflects the files as they are now (through the server, else by running the task here)'
complete -c corral -n "__fish_corral_using_subcommand result" -l json -d 'Print the answer as one JSON object: id, state (fresh, stale, failed, skipped), repo, result, reason, reused, and for a task bound to the repository, grants'
complete -c corral -n "__fish_corral_using_subcommand result" -s h -l help -d 'Print help'
complete -c corral -n "__fish_corral_using_subcommand serve" -l idle-exit -d 'Exit after SECS without clients or runs' -r
complete -c corral -n "__fish_corral_using_subcommand serve" -l manifest -d 'The task manifest [default: $CORRAL_MANIFEST, else ./manifest.toml if it exists, else $XDG_CONFIG_HOME/corral/manifest.toml]' -r -F
complete -c corral -n "__fish_corral_using_subcommand serve" -l status -d 'Print one line about the running server (pid, clients, runs, reused answers); exit 1 when none runs'
complete -c corral -n "__fish_corral_using_subcommand serve" -l stop -d 'Stop the running server (runs under way end first, cancelled)'
complete -c corral -n "__fish_corral_using_subcommand serve" -l start -d 'Start a server in the background unless one runs, and return'
complete -c corral -n "__fish_corral_using_subcommand serve" -l relay -d 'Relay request lines from stdin to the server and its answers to stdout (a shell\'s coprocess), starting the server when needed'
complete -c corral -n "__fish_corral_using_subcommand serve" -l quiet-if-running -d 'Exit 0 without a word when a server already runs (how clients start one: of many started at once, one serves)'
complete -c corral -n "__fish_corral_using_subcommand serve" -s h -l help -d 'Print help'
complete -c corral -n "__fish_corral_using_subcommand enable" -l manifest -d 'The task manifest [default: $CORRAL_MANIFEST, else ./manifest.toml if it exists, else $XDG_CONFIG_HOME/corral/manifest.toml]' -r -F
complete -c corral -n "__fish_corral_using_subcommand enable" -s h -l help -d 'Print help'
complete -c corral -n "__fish_corral_using_subcommand audit" -l diff -d 'Instead, list what changed since OLD_MANIFEST (tasks, grants, budgets)' -r -F
complete -c corral -n "__fish_corral_using_subcommand audit" -l manifest -d 'The task manifest [default: $CORRAL_MANIFEST, else ./manifest.toml if it exists, else $XDG_CONFIG_HOME/corral/manifest.toml]' -r -F
complete -c corral -n "__fish_corral_using_subcommand audit" -l json -d 'Print the audit as JSON'
complete -c corral -n "__fish_corral_using_subcommand audit" -s h -l help -d 'Print help'
complete -c corral -n "__fish_corral_using_subcommand lock" -l manifest -d 'The task manifest [default: $CORRAL_MANIFEST, else ./manifest.toml if it exists, else $XDG_CONFIG_HOME/corral/manifest.toml]' -r -F
complete -c corral -n "__fish_corral_using_subcommand lock" -s h -l help -d 'Print help'
complete -c corral -n "__fish_corral_using_subcommand ack" -l manifest -d 'The task manifest [default: $CORRAL_MANIFEST, else ./manifest.toml if it exists, else $XDG_CONFIG_HOME/corral/manifest.toml]' -r -F
complete -c corral -n "__fish_corral_using_subcommand ack" -s h -l help -d 'Print help'
complete -c corral -n "__fish_corral_using_subcommand watch" -l events -d 'The run\'s event file (default: STATE_DIR/last-run.events, the link to the newest detached run\'s events)' -r -F
complete -c corral -n "__fish_corral_using_subcommand watch" -l manifest -d 'The task manifest [default: $CORRAL_MANIFEST, else ./manifest.toml if it exists, else $XDG_CONFIG_HOME/corral/manifest.toml]' -r -F
complete -c corral -n "__fish_corral_using_subcommand watch" -s h -l help -d 'Print help'
complete -c corral -n "__fish_corral_using_subcommand report" -l out -d 'Where to write the SVG' -r -F
complete -c corral -n "__fish_corral_using_subcommand report" -l manifest -d 'The task manifest [default: $CORRAL_MANIFEST, else ./manifest.toml if it exists, else $XDG_CONFIG_HOME/corral/manifest.toml]' -r -F
complete -c corral -n "__fish_corral_using_subcommand report" -s h -l help -d 'Print help'
complete -c corral -n "__fish_corral_using_subcommand new" -l lang -d 'The language of the template' -r -f -a "rust\t''
python\t''
js\t''"
complete -c corral -n "__fish_corral_using_subcommand new" -l manifest -d 'The task manifest [default: $CORRAL_MANIFEST, else ./manifest.toml if it exists, else $XDG_CONFIG_HOME/corral/manifest.toml]' -r -F
complete -c corral -n "__fish_corral_using_subcommand new" -s h -l help -d 'Print help'
complete -c corral -n "__fish_corral_using_subcommand init" -l manifest -d 'The task manifest [default: $CORRAL_MANIFEST, else ./manifest.toml if it exists, else $XDG_CONFIG_HOME/corral/manifest.toml]' -r -F
complete -c corral -n "__fish_corral_using_subcommand init" -l force -d 'Replace an existing manifest'
complete -c corral -n "__fish_corral_using_subcommand init" -s h -l help -d 'Print help'
complete -c corral -n "__fish_corral_using_subcommand rebaseline" -l manifest -d 'The task manifest [default: $CORRAL_MANIFEST, else ./manifest.toml if it exists, else $XDG_CONFIG_HOME/corral/manifest.toml]' -r -F
complete -c corral -n "__fish_corral_using_subcommand rebaseline" -s h -l help -d 'Print help'
complete -c corral -n "__fish_corral_using_subcommand shell-init" -l manifest -d 'The task manifest [default: $CORRAL_MANIFEST, else ./manifest.toml if it exists, else $XDG_CONFIG_HOME/corral/manifest.toml]' -r -F
complete -c corral -n "__fish_corral_using_subcommand shell-init" -s h -l help -d 'Print help'
complete -c corral -n "__fish_corral_using_subcommand completions" -l manifest -d 'The task manifest [default: $CORRAL_MANIFEST, else ./manifest.toml if it exists, else $XDG_CONFIG_HOME/corral/manifest.toml]' -r -F
complete -c corral -n "__fish_corral_using_subcommand completions" -s h -l help -d 'Print help'
complete -c corral -n "__fish_corral_using_subcommand man" -l manifest -d 'The task manifest [default: $CORRAL_MANIFEST, else ./manifest.toml if it exists, else $XDG_CONFIG_HOME/corral/manifest.toml]' -r -F
complete -c corral -n "__fish_corral_using_subcommand man" -s h -l help -d 'Print help'
complete -c corral -n "__fish_corral_using_subcommand help; and not __fish_seen_subcommand_from run bench check list build result serve enable audit lock ack watch report new init rebaseline shell-init completions man help" -f -a "run" -d 'Run the manifest\'s tasks concurrently and report segment events'
complete -c corral -n "__fish_corral_using_subcommand help; and not __fish_seen_subcommand_from run bench check list build result serve enable audit lock ack watch report new init rebaseline shell-init completions man help" -f -a "bench" -d 'Run the tasks several times in shadow mode; report times, spread, fuel and budgets; compare with a baseline; gate as [perf] says'
complete -c corral -n "__fish_corral_using_subcommand help; and not __fish_seen_subcommand_from run bench check list build result serve enable audit lock ack watch report new init rebaseline shell-init completions man help" -f -a "check" -d 'Validate the manifest and its components; print the manifest checksum'
complete -c corral -n "__fish_corral_using_subcommand help; and not __fish_seen_subcommand_from run bench check list build result serve enable audit lock ack watch report new init rebaseline shell-init completions man help" -f -a "list" -d 'List the manifest\'s tasks with their budgets and grants'
complete -c corral -n "__fish_corral_using_subcommand help; and not __fish_seen_subcommand_from run bench check list build result serve enable audit lock ack watch report new init rebaseline shell-init completions man help" -f -a "build" -d 'Run each task\'s `build` command'
complete -c corral -n "__fish_corral_using_subcommand help; and not __fish_seen_subcommand_from run bench check list build result serve enable audit lock ack watch report new init rebaseline shell-init completions man help" -f -a "result" -d 'Print a task\'s result: the one stored by its last successful run, or with --fresh one that reflects the files as they are now'
complete -c corral -n "__fish_corral_using_subcommand help; and not __fish_seen_subcommand_from run bench check list build result serve enable audit lock ack watch report new init rebaseline shell-init completions man help" -f -a "serve" -d 'Run the per-user server in the foreground: it keeps components and watches warm and answers `corral result --fresh` and prompts'
complete -c corral -n "__fish_corral_using_subcommand help; and not __fish_seen_subcommand_from run bench check list build result serve enable audit lock ack watch report new init rebaseline shell-init completions man help" -f -a "enable" -d 'Re-enable runs after the watchdog turned them off'
complete -c corral -n "__fish_corral_using_subcommand help; and not __fish_seen_subcommand_from run bench check list build result serve enable audit lock ack watch report new init rebaseline shell-init completions man help" -f -a "audit" -d 'Show what every task may do, and flag what a reviewer should look at'
complete -c corral -n "__fish_corral_using_subcommand help; and not __fish_seen_subcommand_from run bench check list build result serve enable audit lock ack watch report new init rebaseline shell-init completions man help" -f -a "lock" -d 'Write each component\'s sha256 pin into the manifest'
complete -c corral -n "__fish_corral_using_subcommand help; and not __fish_seen_subcommand_from run bench check list build result serve enable audit lock ack watch report new init rebaseline shell-init completions man help" -f -a "ack" -d 'Record the manifest as reviewed, for `require_ack`'
complete -c corral -n "__fish_corral_using_subcommand help; and not __fish_seen_subcommand_from run bench check list build result serve enable audit lock ack watch report new init rebaseline shell-init completions man help" -f -a "watch" -d 'Follow a running or finished run in a terminal view (q quits)'
complete -c corral -n "__fish_corral_using_subcommand help; and not __fish_seen_subcommand_from run bench check list build result serve enable audit lock ack watch report new init rebaseline shell-init completions man help" -f -a "report" -d 'Draw a run\'s timeline (one lane per task) from its event file'
complete -c corral -n "__fish_corral_using_subcommand help; and not __fish_seen_subcommand_from run bench check list build result serve enable audit lock ack watch report new init rebaseline shell-init completions man help" -f -a "new" -d 'Create a task from a template beside the manifest and add it to the manifest'
complete -c corral -n "__fish_corral_using_subcommand help; and not __fish_seen_subcommand_from run bench check list build result serve enable audit lock ack watch report new init rebaseline shell-init completions man help" -f -a "init" -d 'Install the shipped components and write a manifest for this machine: $XDG_CONFIG_HOME/corral/manifest.toml (refuses to replace one without --force)'
complete -c corral -n "__fish_corral_using_subcommand help; and not __fish_seen_subcommand_from run bench check list build result serve enable audit lock ack watch report new init rebaseline shell-init completions man help" -f -a "rebaseline" -d 'Run one task once with `--rebaseline`, so that a tamper check (integrity_scan) accepts the current state of what it watches'
complete -c corral -n "__fish_corral_using_subcommand help; and not __fish_seen_subcommand_from run bench check list build result serve enable audit lock ack watch report new init rebaseline shell-init completions man help" -f -a "shell-init" -d 'Print a snippet for a shell\'s rc file that runs the tasks once per shell, after the first prompt, and exposes their results. Without --manifest (or $CORRAL_MANIFEST), for the user manifest `corral init` wrote, never ./manifest.toml'
complete -c corral -n "__fish_corral_using_subcommand help; and not __fish_seen_subcommand_from run bench check list build result serve enable audit lock ack watch report new init rebaseline shell-init completions man help" -f -a "completions" -d 'Print the completion script for corral\'s own command line, for a shell\'s completion directory'
complete -c corral -n "__fish_corral_using_subcommand help; and not __fish_seen_subcommand_from run bench check list build result serve enable audit lock ack watch report new init rebaseline shell-init completions man help" -f -a "man" -d 'Print corral\'s man page (roff): `corral man | man -l -`'
complete -c corral -n "__fish_corral_using_subcommand help; and not __fish_seen_subcommand_from run bench check list build result serve enable audit lock ack watch report new init rebaseline shell-init completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
