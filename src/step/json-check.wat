;; JSON text validation over bytes in linear memory (see json-check.ts for the grammar).
;; Input at [0, len); the function writes 16 zero bytes after it (a sentinel: 0 is never valid outside a
;; string, and is a control character inside one) and keeps its container stack after those.
(module
  (memory (export "memory") 1)

  (func $skip (param $i i32) (result i32)
    (local $b i32)
    (block $done
      (loop $next
        (local.set $b (i32.load8_u (local.get $i)))
        (br_if $done
          (i32.eqz
            (i32.or
              (i32.or (i32.eq (local.get $b) (i32.const 0x20)) (i32.eq (local.get $b) (i32.const 0x0a)))
              (i32.or (i32.eq (local.get $b) (i32.const 0x0d)) (i32.eq (local.get $b) (i32.const 0x09))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $i))

  (func $is_hex (param $b i32) (result i32)
    (i32.or
      (i32.lt_u (i32.sub (local.get $b) (i32.const 0x30)) (i32.const 10))
      (i32.lt_u (i32.sub (i32.or (local.get $b) (i32.const 0x20)) (i32.const 0x61)) (i32.const 6))))

  ;; A string whose opening quote is at $i: the position after its closing quote, or -1.
  (func $string (param $i i32) (param $end i32) (result i32)
    (local $v v128) (local $m i32) (local $b i32) (local $e i32)
    (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (loop $scan
      (local.set $v (v128.load (local.get $i)))
      (local.set $m
        (i8x16.bitmask
          (v128.or
            (v128.or
              (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x22)))
              (i8x16.eq (local.get $v) (i8x16.splat (i32.const 0x5c))))
            (i8x16.lt_u (local.get $v) (i8x16.splat (i32.const 0x20))))))
      (if (i32.eqz (local.get $m))
        (then
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br $scan)))
      (local.set $i (i32.add (local.get $i) (i32.ctz (local.get $m))))
      (if (i32.ge_u (local.get $i) (local.get $end)) (then (return (i32.const -1))))
      (local.set $b (i32.load8_u (local.get $i)))
      (if (i32.eq (local.get $b) (i32.const 0x22)) (then (return (i32.add (local.get $i) (i32.const 1)))))
      (if (i32.ne (local.get $b) (i32.const 0x5c)) (then (return (i32.const -1))))
      (local.set $e (i32.load8_u offset=1 (local.get $i)))
      ;; " \ / b f n r t
      (if (i32.or
            (i32.or
              (i32.or (i32.eq (local.get $e) (i32.const 0x22)) (i32.eq (local.get $e) (i32.const 0x5c)))
              (i32.or (i32.eq (local.get $e) (i32.const 0x2f)) (i32.eq (local.get $e) (i32.const 0x62))))
            (i32.or
              (i32.or (i32.eq (local.get $e) (i32.const 0x66)) (i32.eq (local.get $e) (i32.const 0x6e)))
              (i32.or (i32.eq (local.get $e) (i32.const 0x72)) (i32.eq (local.get $e) (i32.const 0x74)))))
        (then
          (local.set $i (i32.add (local.get $i) (i32.const 2)))
          (br $scan)))
      (if (i32.and
            (i32.eq (local.get $e) (i32.const 0x75))
            (i32.and
              (i32.and (call $is_hex (i32.load8_u offset=2 (local.get $i))) (call $is_hex (i32.load8_u offset=3 (local.get $i))))
              (i32.and (call $is_hex (i32.load8_u offset=4 (local.get $i))) (call $is_hex (i32.load8_u offset=5 (local.get $i))))))
        (then
          (local.set $i (i32.add (local.get $i) (i32.const 6)))
          (br $scan))))
    (i32.const -1))

  ;; One or more digits from $i: the position after them, or -1.
  (func $digits (param $i i32) (result i32)
    (local $start i32)
    (local.set $start (local.get $i))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (i32.sub (i32.load8_u (local.get $i)) (i32.const 0x30)) (i32.const 10)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (select (local.get $i) (i32.const -1) (i32.gt_u (local.get $i) (local.get $start))))

  (func $number (param $i i32) (result i32)
    (local $b i32)
    (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 0x2d)) (then (local.set $i (i32.add (local.get $i) (i32.const 1)))))
    (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 0x30))
      (then (local.set $i (i32.add (local.get $i) (i32.const 1))))
      (else
        (local.set $i (call $digits (local.get $i)))
        (if (i32.lt_s (local.get $i) (i32.const 0)) (then (return (i32.const -1))))))
    (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 0x2e))
      (then
        (local.set $i (call $digits (i32.add (local.get $i) (i32.const 1))))
        (if (i32.lt_s (local.get $i) (i32.const 0)) (then (return (i32.const -1))))))
    (if (i32.eq (i32.or (i32.load8_u (local.get $i)) (i32.const 0x20)) (i32.const 0x65))
      (then
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $b (i32.load8_u (local.get $i)))
        (if (i32.or (i32.eq (local.get $b) (i32.const 0x2b)) (i32.eq (local.get $b) (i32.const 0x2d)))
          (then (local.set $i (i32.add (local.get $i) (i32.const 1)))))
        (return (call $digits (local.get $i)))))
    (local.get $i))

  ;; A member's key and colon, the key's quote at $i: the position after the colon, or -1.
  (func $member_key (param $i i32) (param $end i32) (result i32)
    (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x22)) (then (return (i32.const -1))))
    (local.set $i (call $string (local.get $i) (local.get $end)))
    (if (i32.lt_s (local.get $i) (i32.const 0)) (then (return (i32.const -1))))
    (local.set $i (call $skip (local.get $i)))
    (select (i32.add (local.get $i) (i32.const 1)) (i32.const -1) (i32.eq (i32.load8_u (local.get $i)) (i32.const 0x3a))))

  ;; The position after the one JSON value at $i (after whitespace), or -1. Containers are kept as their
  ;; opening byte on a stack at $stack (one byte per level: any depth fits, as the input is that long).
  (func $value_end (param $i i32) (param $end i32) (param $stack i32) (result i32)
    (local $b i32) (local $depth i32) (local $kind i32)
    (loop $value
      (local.set $i (call $skip (local.get $i)))
      (local.set $b (i32.load8_u (local.get $i)))
      (block $scalar_done
        (if (i32.eq (i32.or (local.get $b) (i32.const 0x20)) (i32.const 0x7b)) ;; { or [
          (then
            (local.set $i (call $skip (i32.add (local.get $i) (i32.const 1))))
            (if (i32.eq (i32.load8_u (local.get $i)) (i32.add (local.get $b) (i32.const 2)))
              (then
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $scalar_done)))
            (if (i32.eq (local.get $b) (i32.const 0x7b))
              (then
                (local.set $i (call $member_key (local.get $i) (local.get $end)))
                (if (i32.lt_s (local.get $i) (i32.const 0)) (then (return (i32.const -1))))))
            (i32.store8 (i32.add (local.get $stack) (local.get $depth)) (local.get $b))
            (local.set $depth (i32.add (local.get $depth) (i32.const 1)))
            (br $value)))
        (if (i32.eq (local.get $b) (i32.const 0x22))
          (then (local.set $i (call $string (local.get $i) (local.get $end))) (br $scalar_done)))
        (if (i32.eq (local.get $b) (i32.const 0x74)) ;; true
          (then
            (local.set $i (select (i32.add (local.get $i) (i32.const 4)) (i32.const -1)
              (i32.eq (i32.load (local.get $i)) (i32.const 0x65757274))))
            (br $scalar_done)))
        (if (i32.eq (local.get $b) (i32.const 0x6e)) ;; null
          (then
            (local.set $i (select (i32.add (local.get $i) (i32.const 4)) (i32.const -1)
              (i32.eq (i32.load (local.get $i)) (i32.const 0x6c6c756e))))
            (br $scalar_done)))
        (if (i32.eq (local.get $b) (i32.const 0x66)) ;; false
          (then
            (local.set $i (select (i32.add (local.get $i) (i32.const 5)) (i32.const -1)
              (i32.and
                (i32.eq (i32.load (local.get $i)) (i32.const 0x736c6166))
                (i32.eq (i32.load8_u offset=4 (local.get $i)) (i32.const 0x65)))))
            (br $scalar_done)))
        (if (i32.or (i32.eq (local.get $b) (i32.const 0x2d)) (i32.lt_u (i32.sub (local.get $b) (i32.const 0x30)) (i32.const 10)))
          (then (local.set $i (call $number (local.get $i))) (br $scalar_done)))
        (return (i32.const -1)))
      (if (i32.lt_s (local.get $i) (i32.const 0)) (then (return (i32.const -1))))
      ;; Close containers until one goes on with another member or element.
      (loop $close
        (if (i32.eqz (local.get $depth)) (then (return (local.get $i))))
        (local.set $i (call $skip (local.get $i)))
        (local.set $kind (i32.load8_u (i32.sub (i32.add (local.get $stack) (local.get $depth)) (i32.const 1))))
        (local.set $b (i32.load8_u (local.get $i)))
        (if (i32.eq (local.get $b) (i32.const 0x2c))
          (then
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (if (i32.eq (local.get $kind) (i32.const 0x7b))
              (then
                (local.set $i (call $member_key (call $skip (local.get $i)) (local.get $end)))
                (if (i32.lt_s (local.get $i) (i32.const 0)) (then (return (i32.const -1))))))
            (br $value)))
        (if (i32.ne (local.get $b) (i32.add (local.get $kind) (i32.const 2))) (then (return (i32.const -1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
        (br $close)))
    (i32.const -1))

  ;; 1 when [0, $len) is one JSON text (an optional UTF-8 byte-order mark first), else 0. Memory must hold
  ;; 2 × $len + 16 bytes.
  (func (export "isJsonText") (param $len i32) (result i32)
    (local $i i32)
    (v128.store (local.get $len) (v128.const i64x2 0 0))
    (if (i32.and (i32.ge_u (local.get $len) (i32.const 3))
          (i32.eq (i32.and (i32.load (i32.const 0)) (i32.const 0xffffff)) (i32.const 0xbfbbef)))
      (then (local.set $i (i32.const 3))))
    (local.set $i (call $value_end (local.get $i) (local.get $len) (i32.add (local.get $len) (i32.const 16))))
    (if (i32.lt_s (local.get $i) (i32.const 0)) (then (return (i32.const 0))))
    (i32.eq (call $skip (local.get $i)) (local.get $len))))
