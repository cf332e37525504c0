//! A well-formed component that exports the wrong world: a `go` function
//! instead of the `corral:task` world's `run`. The host must refuse it.

wit_bindgen::generate!({
    inline: "
        package corral:wrong;

        world wrong {
            export go: func() -> string;
        }
    ",
    world: "wrong",
});

struct Component;

impl Guest for Component {
    fn go() -> String {
        "this component does not export the task world".into()
    }
}

export!(Component);
