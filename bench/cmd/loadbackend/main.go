// Command loadbackend is the backend of the load test: a tiny HTTP server
// on 127.0.0.1 that answers GET /users/{id} with a small JSON object and
// counts every request it receives, so that load.sh can show that
// preflights never reach it.
//
//	loadbackend -listen 127.0.0.1:18400
//
// GET /__count answers with the number of requests received so far (it
// does not count itself).
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18400", "address to listen on (keep it on 127.0.0.1)")
	flag.Parse()

	var hits atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /__count", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, hits.Load())
	})
	body := []byte(`{"id":"42","name":"user 42","email":"user42@example.com"}`)
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	count := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/__count" {
			hits.Add(1)
		}
		mux.ServeHTTP(w, r)
	})
	srv := &http.Server{Addr: *listen, Handler: count, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("loadbackend listening on %s", *listen)
	log.Fatal(srv.ListenAndServe())
}
