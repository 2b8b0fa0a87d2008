;; JSON scanning over bytes in linear memory (see json-check.ts for the grammar, envelope-scan.ts for the
;; envelope's fields). Layout: [0, 128) the envelope's key names (data below), [128, 208) the envelope's field
;; spans, input from 256 (INPUT). Each export writes 16 zero bytes after its input (a sentinel: 0 is never valid
;; outside a string, and is a control character inside one) and keeps its container stack after those.
(module
  (memory (export "memory") 1)

  ;; The envelope keys read, at the offsets $field_of compares them with.
  (data (i32.const 0) "message")
  (data (i32.const 8) "_id")
  (data (i32.const 12) "@type")
  (data (i32.const 20) "dbObject")
  (data (i32.const 28) "encryption")
  (data (i32.const 40) "initialisationVector")
  (data (i32.const 64) "keyEncryptionKeyId")
  (data (i32.const 88) "encryptedEncryptionKey")

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

  ;; The first byte from $i that ends plain string content: a quote, a backslash or a control character (the
  ;; sentinel after the input is one). Sixteen bytes at a time (SIMD).
  (func $stop (param $i i32) (result i32)
    (local $v v128) (local $m i32)
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
          (br $scan))))
    (i32.add (local.get $i) (i32.ctz (local.get $m))))

  ;; A string whose opening quote is at $i: the position after its closing quote, or -1.
  (func $string (param $i i32) (param $end i32) (result i32)
    (local $b i32) (local $e i32)
    (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (loop $scan
      (local.set $i (call $stop (local.get $i)))
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

  ;; 1 when [INPUT, INPUT + $len) is one JSON text (an optional UTF-8 byte-order mark first), else 0. Memory
  ;; must hold INPUT + 2 × $len + 16 bytes.
  (func (export "isJsonText") (param $len i32) (result i32)
    (local $i i32) (local $end i32)
    (local.set $end (i32.add (i32.const 256) (local.get $len)))
    (v128.store (local.get $end) (v128.const i64x2 0 0))
    (local.set $i (i32.const 256))
    (if (i32.and (i32.ge_u (local.get $len) (i32.const 3))
          (i32.eq (i32.and (i32.load (i32.const 256)) (i32.const 0xffffff)) (i32.const 0xbfbbef)))
      (then (local.set $i (i32.const 259))))
    (local.set $i (call $value_end (local.get $i) (local.get $end) (i32.add (local.get $end) (i32.const 16))))
    (if (i32.lt_s (local.get $i) (i32.const 0)) (then (return (i32.const 0))))
    (i32.eq (call $skip (local.get $i)) (local.get $end)))

  ;; ─── The envelope (envelope-scan.ts) ───────────────────────────────────────────────────────────────────
  ;; Fields: 1 message, 2 encryption, 3 _id, 4 @type, 5 dbObject, 6 initialisationVector, 7 keyEncryptionKeyId,
  ;; 8 encryptedEncryptionKey. Field f's span: start at 128 + 8f, end at 132 + 8f (-1: not seen); for strings,
  ;; their content. 200: 1 when @type held another JSON type than a string.

  ;; The closing quote of a string whose content starts at $i, if it has no escape and no control character; else -1.
  (func $plain_end (param $i i32) (param $end i32) (result i32)
    (local.set $i (call $stop (local.get $i)))
    (select (local.get $i) (i32.const -1)
      (i32.and (i32.lt_u (local.get $i) (local.get $end)) (i32.eq (i32.load8_u (local.get $i)) (i32.const 0x22)))))

  ;; Whether the $length bytes at $at are the $name_length bytes at $name.
  (func $is_key (param $at i32) (param $length i32) (param $name i32) (param $name_length i32) (result i32)
    (local $k i32)
    (if (i32.ne (local.get $length) (local.get $name_length)) (then (return (i32.const 0))))
    (block $differ
      (loop $next
        (if (i32.ge_u (local.get $k) (local.get $length)) (then (return (i32.const 1))))
        (br_if $differ (i32.ne (i32.load8_u (i32.add (local.get $at) (local.get $k))) (i32.load8_u (i32.add (local.get $name) (local.get $k)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  ;; The field a key names in an object of $level (0 the envelope, 1 message, 2 encryption), or 0.
  (func $field_of (param $level i32) (param $at i32) (param $length i32) (result i32)
    (if (i32.eqz (local.get $level))
      (then (return (select (i32.const 1) (i32.const 0) (call $is_key (local.get $at) (local.get $length) (i32.const 0) (i32.const 7))))))
    (if (i32.eq (local.get $level) (i32.const 1))
      (then
        (if (call $is_key (local.get $at) (local.get $length) (i32.const 8) (i32.const 3)) (then (return (i32.const 3))))
        (if (call $is_key (local.get $at) (local.get $length) (i32.const 12) (i32.const 5)) (then (return (i32.const 4))))
        (if (call $is_key (local.get $at) (local.get $length) (i32.const 20) (i32.const 8)) (then (return (i32.const 5))))
        (if (call $is_key (local.get $at) (local.get $length) (i32.const 28) (i32.const 10)) (then (return (i32.const 2))))
        (return (i32.const 0))))
    (if (call $is_key (local.get $at) (local.get $length) (i32.const 40) (i32.const 20)) (then (return (i32.const 6))))
    (if (call $is_key (local.get $at) (local.get $length) (i32.const 64) (i32.const 18)) (then (return (i32.const 7))))
    (if (call $is_key (local.get $at) (local.get $length) (i32.const 88) (i32.const 22)) (then (return (i32.const 8))))
    (i32.const 0))

  ;; A read field's value at $i: its span recorded; the position after it, or -1.
  (func $field_value (param $i i32) (param $field i32) (param $end i32) (param $stack i32) (result i32)
    (local $span i32) (local $after i32)
    (local.set $span (i32.add (i32.const 128) (i32.shl (local.get $field) (i32.const 3))))
    (i32.store (local.get $span) (local.get $i))
    (if (i32.le_u (local.get $field) (i32.const 2)) ;; message, encryption: objects, walked
      (then
        (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x7b)) (then (return (i32.const -1))))
        (local.set $after (call $members (local.get $i) (local.get $field) (local.get $end) (local.get $stack)))
        (i32.store offset=4 (local.get $span) (local.get $after))
        (return (local.get $after))))
    (if (i32.eq (local.get $field) (i32.const 3)) ;; _id: any JSON value
      (then
        (local.set $after (call $value_end (local.get $i) (local.get $end) (local.get $stack)))
        (i32.store offset=4 (local.get $span) (local.get $after))
        (return (local.get $after))))
    (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x22))
      (then
        ;; @type defaults when it is not a string; the other fields must be strings.
        (if (i32.ne (local.get $field) (i32.const 4)) (then (return (i32.const -1))))
        (i32.store (i32.const 200) (i32.const 1))
        (return (call $value_end (local.get $i) (local.get $end) (local.get $stack)))))
    (local.set $after (call $plain_end (i32.add (local.get $i) (i32.const 1)) (local.get $end)))
    (if (i32.lt_s (local.get $after) (i32.const 0)) (then (return (i32.const -1))))
    (i32.store (local.get $span) (i32.add (local.get $i) (i32.const 1)))
    (i32.store offset=4 (local.get $span) (local.get $after))
    (i32.add (local.get $after) (i32.const 1)))

  ;; The members of the object whose '{' is at $i, the envelope ($level 0), message (1) or encryption (2): the
  ;; position after its '}', or -1. A read key seen twice, or with an escape, gives up (-1): JSON.parse would keep
  ;; the last, and the scanner does not try to.
  (func $members (param $i i32) (param $level i32) (param $end i32) (param $stack i32) (result i32)
    (local $key_end i32) (local $field i32) (local $b i32)
    (local.set $i (call $skip (i32.add (local.get $i) (i32.const 1))))
    (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 0x7d)) (then (return (i32.add (local.get $i) (i32.const 1)))))
    (loop $member
      (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x22)) (then (return (i32.const -1))))
      (local.set $key_end (call $plain_end (i32.add (local.get $i) (i32.const 1)) (local.get $end)))
      (if (i32.lt_s (local.get $key_end) (i32.const 0)) (then (return (i32.const -1))))
      (local.set $field
        (call $field_of (local.get $level) (i32.add (local.get $i) (i32.const 1)) (i32.sub (local.get $key_end) (i32.add (local.get $i) (i32.const 1)))))
      (local.set $i (call $skip (i32.add (local.get $key_end) (i32.const 1))))
      (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x3a)) (then (return (i32.const -1))))
      (local.set $i (call $skip (i32.add (local.get $i) (i32.const 1))))
      (if (i32.eqz (local.get $field))
        (then (local.set $i (call $value_end (local.get $i) (local.get $end) (local.get $stack))))
        (else
          (if (i32.ge_s (i32.load (i32.add (i32.const 128) (i32.shl (local.get $field) (i32.const 3)))) (i32.const 0))
            (then (return (i32.const -1))))
          (local.set $i (call $field_value (local.get $i) (local.get $field) (local.get $end) (local.get $stack)))))
      (if (i32.lt_s (local.get $i) (i32.const 0)) (then (return (i32.const -1))))
      (local.set $i (call $skip (local.get $i)))
      (local.set $b (i32.load8_u (local.get $i)))
      (if (i32.eq (local.get $b) (i32.const 0x7d)) (then (return (i32.add (local.get $i) (i32.const 1)))))
      (if (i32.ne (local.get $b) (i32.const 0x2c)) (then (return (i32.const -1))))
      (local.set $i (call $skip (i32.add (local.get $i) (i32.const 1))))
      (br $member))
    (i32.const -1))

  ;; 1 when [INPUT, INPUT + $len) is one JSON object with the envelope's plain shape, its fields' spans recorded
  ;; (absolute positions); else 0. Memory must hold INPUT + 2 × $len + 16 bytes.
  (func (export "scanEnvelope") (param $len i32) (result i32)
    (local $i i32) (local $end i32)
    (local.set $end (i32.add (i32.const 256) (local.get $len)))
    (v128.store (local.get $end) (v128.const i64x2 0 0))
    (v128.store (i32.const 128) (v128.const i32x4 -1 -1 -1 -1))
    (v128.store (i32.const 144) (v128.const i32x4 -1 -1 -1 -1))
    (v128.store (i32.const 160) (v128.const i32x4 -1 -1 -1 -1))
    (v128.store (i32.const 176) (v128.const i32x4 -1 -1 -1 -1))
    (v128.store (i32.const 192) (v128.const i32x4 -1 -1 0 0))
    (local.set $i (call $skip (i32.const 256)))
    (if (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x7b)) (then (return (i32.const 0))))
    (local.set $i (call $members (local.get $i) (i32.const 0) (local.get $end) (i32.add (local.get $end) (i32.const 16))))
    (if (i32.lt_s (local.get $i) (i32.const 0)) (then (return (i32.const 0))))
    (i32.eq (call $skip (local.get $i)) (local.get $end))))
