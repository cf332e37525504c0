;; A task component written by hand, because no source language lets a
;; guest call `table.grow` directly: its `run` grows its table until the
;; host refuses, then traps. The host must report `reason=memory`.
(component
  (core module $guest
    (table $table 1 funcref)
    (memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
      i32.const 8)
    (func (export "run") (param i32 i32 i32 i32 i32) (result i32)
      (loop $grow
        (br_if $grow
          (i32.ne
            (table.grow $table (ref.null func) (i32.const 10000))
            (i32.const -1))))
      unreachable))
  (core instance $instance (instantiate $guest))
  ;; A function's export may only name types that are exported themselves.
  (type $invocation-def
    (record (field "id" string) (field "args" (list string)) (field "attempt" u32)))
  (export $invocation "invocation" (type $invocation-def))
  (type $failure-def (variant (case "error" string) (case "invalid-input" string)))
  (export $failure "failure" (type $failure-def))
  (func $run (param "call" $invocation) (result (result string (error $failure)))
    (canon lift (core func $instance "run")
      (memory (core memory $instance "memory"))
      (realloc (core func $instance "cabi_realloc"))))
  (export "run" (func $run)))
