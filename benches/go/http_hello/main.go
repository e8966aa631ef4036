// http_hello: the Go twin of examples/http_hello.rs for `wrk` (net/http,
// keep-alive, "Hello, World!" as text/plain).
//
//	go run ./http_hello 127.0.0.1:8081
package main

import (
	"log"
	"net/http"
	"os"
)

func main() {
	addr := "127.0.0.1:8081"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	hello := []byte("Hello, World!")
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(hello)
	})
	log.Fatal(http.ListenAndServe(addr, nil))
}
