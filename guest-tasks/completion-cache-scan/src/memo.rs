//! What each candidate file held at the last scan, as its private state
//! keeps it (`corral_task_files::known`): a file whose stat is unchanged is
//! not read or parsed again.

use std::collections::BTreeSet;

use crate::shells::Shell;

/// The state file and its format's tag.
pub const STATE_FILE: &str = "definitions";
pub const STATE_TAG: &str = "completion-cache-scan definitions v1";

/// What one file defines: the shell and the commands it completes.
pub type Held = Option<(Shell, BTreeSet<String>)>;

/// `-` for a file that defines nothing, else the shell and the commands,
/// TAB-separated; `None` if a command holds a TAB or line break, which the
/// index could not carry either (the file is then read again next time).
pub fn encode(held: &Held) -> Option<String> {
    let Some((shell, commands)) = held else {
        return Some("-".to_owned());
    };
    if commands
        .iter()
        .any(|c| c.is_empty() || c.contains(['\t', '\n']))
    {
        return None;
    }
    let mut value = shell.to_string();
    for command in commands {
        value.push('\t');
        value.push_str(command);
    }
    Some(value)
}

/// The inverse of [`encode`]; `None` for a value it never writes.
pub fn decode(value: &str) -> Option<Held> {
    if value == "-" {
        return Some(None);
    }
    let mut fields = value.split('\t');
    let shell = Shell::named(fields.next()?)?;
    let commands: BTreeSet<String> = fields.map(str::to_owned).collect();
    if commands.is_empty() || commands.contains("") {
        return None;
    }
    Some(Some((shell, commands)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_file_held_survives_the_state() {
        let commands: BTreeSet<String> = ["git", "git-lfs"].map(String::from).into();
        for held in [None, Some((Shell::Zsh, commands))] {
            let value = encode(&held).unwrap();
            assert_eq!(decode(&value), Some(held));
        }
        assert_eq!(decode("zsh"), None);
        assert_eq!(decode("csh\tls"), None);
        assert_eq!(decode("bash\t\tls"), None);
    }
}
