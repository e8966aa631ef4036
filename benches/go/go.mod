module goro/benches/go

go 1.27
