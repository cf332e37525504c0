//! Just enough shell lexing to read `complete` invocations.
//!
//! Handles quotes, backslash escapes, line continuations, comments, command
//! separators and redirections; it expands nothing, so a word that needed
//! expansion keeps its `$` and callers can discard it.

/// Joins backslash-continued lines, yielding whole logical lines.
pub fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        match line.strip_suffix('\\') {
            Some(head) => pending.push_str(head),
            None => {
                pending.push_str(line);
                lines.push(std::mem::take(&mut pending));
            }
        }
    }
    if !pending.is_empty() {
        lines.push(pending);
    }
    lines
}

/// The quoting rules to follow.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// sh and bash: nothing is special inside single quotes.
    Posix,
    /// fish: `\'` and `\\` are escapes even inside single quotes.
    Fish,
}

/// Splits one logical line into simple commands, each a list of words.
///
/// `;`, `&`, `|`, `(` and `)` separate commands; a redirection and its target
/// are dropped; an unquoted `#` at the start of a word ends the line.
pub fn simple_commands(line: &str, dialect: Dialect) -> Vec<Vec<String>> {
    let mut lexer = Lexer::default();
    let mut chars = line.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some('\''), '\\')
                if dialect == Dialect::Fish && matches!(chars.peek(), Some('\'' | '\\')) =>
            {
                lexer.push(chars.next().unwrap_or('\\'));
            }
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => lexer.push(chars.next().unwrap_or('\\')),
            (Some(_), c) => lexer.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                lexer.word.get_or_insert_default();
            }
            (None, '\\') => lexer.push(chars.next().unwrap_or('\\')),
            (None, '#') if lexer.word.is_none() => break,
            (None, ';' | '&' | '|' | '(' | ')') => lexer.end_command(),
            (None, '<' | '>') => {
                // `>&2` duplicates a descriptor: the `&` is no separator.
                chars.next_if_eq(&'&');
                lexer.redirect();
            }
            (None, c) if c.is_whitespace() => lexer.end_word(),
            (None, c) => lexer.push(c),
        }
    }
    lexer.end_command();
    lexer.commands
}

#[derive(Default)]
struct Lexer {
    commands: Vec<Vec<String>>,
    command: Vec<String>,
    /// The word being read; `Some("")` after an empty quoted string.
    word: Option<String>,
    /// The next word is a redirection target, not an argument.
    redirect_target: bool,
}

impl Lexer {
    fn push(&mut self, c: char) {
        self.word.get_or_insert_default().push(c);
    }

    fn end_word(&mut self) {
        if let Some(word) = self.word.take() {
            if std::mem::take(&mut self.redirect_target) {
                return;
            }
            self.command.push(word);
        }
    }

    fn end_command(&mut self) {
        self.end_word();
        self.redirect_target = false;
        if !self.command.is_empty() {
            self.commands.push(std::mem::take(&mut self.command));
        }
    }

    /// `2>/dev/null`, `2>&1`: drop the fd number and the target that follows.
    fn redirect(&mut self) {
        if self
            .word
            .as_deref()
            .is_some_and(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()))
        {
            self.word = None;
        }
        self.end_word();
        self.redirect_target = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<Vec<String>> {
        simple_commands(line, Dialect::Posix)
    }

    #[test]
    fn splits_words_and_commands() {
        assert_eq!(
            words("have foo && complete -F _foo foo; echo done # trailing"),
            vec![
                vec!["have", "foo"],
                vec!["complete", "-F", "_foo", "foo"],
                vec!["echo", "done"]
            ]
        );
    }

    #[test]
    fn honours_quotes_and_escapes() {
        assert_eq!(
            words(r#"complete -W "a b\"c" 'x y' ''  one\ word"#),
            vec![vec!["complete", "-W", "a b\"c", "x y", "", "one word"]]
        );
        assert_eq!(words("echo a#b"), vec![vec!["echo", "a#b"]]);
    }

    #[test]
    fn fish_escapes_inside_single_quotes() {
        let line = r"complete -c x -d 'Don\'t \\ stop' -c y";
        assert_eq!(
            simple_commands(line, Dialect::Fish),
            vec![vec![
                "complete",
                "-c",
                "x",
                "-d",
                r"Don't \ stop",
                "-c",
                "y"
            ]]
        );
        assert_eq!(
            simple_commands(r"echo 'a\' b", Dialect::Posix),
            vec![vec!["echo", r"a\", "b"]]
        );
    }

    #[test]
    fn drops_redirections() {
        assert_eq!(
            words("complete -F _f foo 2>/dev/null || complete -F _f bar >&2"),
            vec![
                vec!["complete", "-F", "_f", "foo"],
                vec!["complete", "-F", "_f", "bar"]
            ]
        );
    }

    #[test]
    fn joins_continued_lines() {
        assert_eq!(
            logical_lines("complete -o default \\\n  -F _f foo\nnext\n"),
            vec!["complete -o default   -F _f foo", "next"]
        );
    }
}
