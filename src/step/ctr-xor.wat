;; XOR of two regions of linear memory, 16 bytes at a time (SIMD), for AES-CTR (ctr-batch.ts): the keystream
;; and the ciphertexts, copied in, become the plaintext. Both regions are padded to whole 16-byte blocks.
(module
  (memory (export "memory") 1)

  ;; memory[$target, $target + $length) ^= memory[$source, $source + $length); $length a multiple of 16.
  (func (export "xor") (param $target i32) (param $source i32) (param $length i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $target) (local.get $length)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $target) (local.get $end)))
        (v128.store (local.get $target) (v128.xor (v128.load (local.get $target)) (v128.load (local.get $source))))
        (local.set $target (i32.add (local.get $target) (i32.const 16)))
        (local.set $source (i32.add (local.get $source) (i32.const 16)))
        (br $next)))))
