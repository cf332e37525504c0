# fish completion for corral. Install: copy to ~/.config/fish/completions/.

# Task ids are the `id = "..."` lines of the manifest named by --manifest
# (default ./manifest.toml), read without running corral.
function __corral_ids
    set -l manifest manifest.toml
    set -l tokens (commandline -opc)
    for i in (seq (count $tokens))
        switch $tokens[$i]
            case --manifest
                set -q tokens[(math $i + 1)]; and set manifest $tokens[(math $i + 1)]
            case '--manifest=*'
                set manifest (string replace -- --manifest= '' $tokens[$i])
        end
    end
    test -r $manifest; and string replace -rf -- '^\s*id\s*=\s*"([a-z0-9_]+)".*' '$1' <$manifest
end

set -l commands run check list build audit result
complete -c corral -f
complete -c corral -n "not __fish_seen_subcommand_from $commands" -a run -d 'Run the tasks in the manifest'
complete -c corral -n "not __fish_seen_subcommand_from $commands" -a check -d 'Validate the manifest'
complete -c corral -n "not __fish_seen_subcommand_from $commands" -a list -d 'List the tasks'
complete -c corral -n "not __fish_seen_subcommand_from $commands" -a build -d 'Build the task components'
complete -c corral -n "not __fish_seen_subcommand_from $commands" -a audit -d 'Show what each task may touch'
complete -c corral -n "not __fish_seen_subcommand_from $commands" -a result -d 'Print the latest result of a task'
complete -c corral -n "__fish_seen_subcommand_from $commands" -l manifest -r -F -d 'Manifest to use'
complete -c corral -n '__fish_seen_subcommand_from run' -l only -x -a '(__corral_ids)' -d 'Run only this task'
complete -c corral -n '__fish_seen_subcommand_from run' -l mode -x -a 'on shadow off' -d 'Sampling mode'
complete -c corral -n '__fish_seen_subcommand_from run' -l max-concurrency -x -d 'Most tasks running at once'
complete -c corral -n '__fish_seen_subcommand_from run' -l events -r -F -d 'Where to write events (- for stdout)'
complete -c corral -n '__fish_seen_subcommand_from run' -l events-format -x -a 'segment json' -d 'Event format'
complete -c corral -n '__fish_seen_subcommand_from run' -l build -d 'Build components before running'
complete -c corral -n '__fish_seen_subcommand_from result' -a '(__corral_ids)' -d 'Task id'
