// Command changer applies a new CORS policy through corsgate's admin API
// at a fixed rate, for the load scripts: policy A (https://a.example,
// X-A exposed) and policy B (https://b.example, X-B exposed) in turn,
// through the admin APIs given, one after the other. Each write is a PUT
// of the whole layer with If-Match: the ETag of the previous answer, or,
// after a 412 (that replica had not applied the previous change yet), the
// ETag read again from it. It runs in one process, so the changes cost the
// machine no process starts. At the end it prints the writes made and the
// 412 answers. The credentials come from CORSGATE_ADMIN_USER and
// CORSGATE_ADMIN_PASSWORD.
//
//	changer -rate 10 -d 8s http://127.0.0.1:9101 http://127.0.0.1:9102
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/corsgate/corsgate/admin/client"
)

func main() {
	rate := flag.Float64("rate", 10, "changes a second")
	d := flag.Duration("d", 8*time.Second, "how long to run")
	flag.Parse()
	if flag.NArg() == 0 || *rate <= 0 {
		fmt.Fprintln(os.Stderr, "usage: changer [-rate N] [-d DURATION] ADMIN_URL...")
		os.Exit(2)
	}
	var admins []*client.Client
	for _, base := range flag.Args() {
		c, err := client.New(base, 5*time.Second)
		if err != nil {
			fmt.Fprintln(os.Stderr, "changer:", err)
			os.Exit(2)
		}
		admins = append(admins, c)
	}
	ctx := context.Background()
	do := func(c *client.Client, method, ifMatch, body string) (int, string) {
		var data []byte
		if body != "" {
			data = []byte(body)
		}
		a, err := c.Do(ctx, method, "/v1/cors/layer", ifMatch, data)
		if err != nil {
			fmt.Fprintln(os.Stderr, "changer:", err)
			return 0, ""
		}
		return a.Status, a.ETag()
	}
	var writes, conflicts, failures int
	etag := ""
	tick := time.NewTicker(time.Duration(float64(time.Second) / *rate))
	defer tick.Stop()
	end := time.After(*d)
	for i := 0; ; i++ {
		select {
		case <-end:
			fmt.Printf("writes %d conflicts %d failures %d\n", writes, conflicts, failures)
			return
		case <-tick.C:
		}
		c := admins[i%len(admins)]
		if etag == "" {
			_, etag = do(c, "GET", "", "")
		}
		p, h := "a", "X-A"
		if i%2 == 0 {
			p, h = "b", "X-B"
		}
		code, tag := do(c, "PUT", etag, fmt.Sprintf(`{"service": {"allow_origins": ["https://%s.example"], "expose_headers": ["%s"]}}`, p, h))
		switch code {
		case http.StatusOK:
			writes++
			etag = tag
		case http.StatusPreconditionFailed:
			conflicts++
			etag = ""
		default:
			failures++
			etag = ""
		}
	}
}
