module goro/benches/go-kv

go 1.27
