package main

import (
	"bytes"
	"encoding/json"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDemoBackend(t *testing.T) {
	var logs bytes.Buffer
	srv := httptest.NewServer(NewStore().Handler(log.New(&logs, "", 0)))
	defer srv.Close()

	get := func(path string, v any) int {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Origin", "https://app.example.com")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if v != nil {
			if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
				t.Fatalf("GET %s: decoding: %v", path, err)
			}
		}
		return resp.StatusCode
	}

	var users []User
	if code := get("/users", &users); code != 200 || len(users) != 3 {
		t.Errorf("GET /users = %d, %d users; want 200, 3 users", code, len(users))
	}
	var u User
	if code := get("/users/2", &u); code != 200 || u.Name != "Alan Turing" {
		t.Errorf("GET /users/2 = %d, %+v", code, u)
	}
	if code := get("/users/99", nil); code != 404 {
		t.Errorf("GET /users/99 = %d, want 404", code)
	}

	resp, err := http.Post(srv.URL+"/orders", "application/json", strings.NewReader(`{"item":"book","quantity":2}`))
	if err != nil {
		t.Fatal(err)
	}
	var o Order
	_ = json.NewDecoder(resp.Body).Decode(&o)
	resp.Body.Close()
	if resp.StatusCode != 201 || o.ID != 1 || o.Item != "book" || o.Quantity != 2 {
		t.Errorf("POST /orders = %d, %+v; want 201 and order 1 of 2 books", resp.StatusCode, o)
	}
	resp, err = http.Post(srv.URL+"/orders", "application/json", strings.NewReader(`not json`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("POST /orders with a bad body = %d, want 400", resp.StatusCode)
	}

	var orders []Order
	if code := get("/orders", &orders); code != 200 || len(orders) != 1 || orders[0].ID != 1 {
		t.Errorf("GET /orders = %d, %+v; want the one order", code, orders)
	}

	if !strings.Contains(logs.String(), "GET /users/2 origin=https://app.example.com") {
		t.Errorf("request log lacks method, path and origin:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "POST /orders origin=-") {
		t.Errorf("request log lacks a request without Origin:\n%s", logs.String())
	}
}
