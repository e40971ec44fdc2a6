// Command demo-backend is a tiny JSON API to put behind corsgate when
// trying it out (make run).
//
// It serves:
//
//	GET  /users        the list of users
//	GET  /users/{id}   one user (404 when unknown)
//	GET  /orders       the orders created so far
//	POST /orders       creates an order from the JSON body and returns it with an id
//
// Every request it receives is logged with its method, path and Origin
// header, so that one can watch CORS preflights being answered by the
// gateway: they never show up here.
//
// Usage:
//
//	demo-backend [-listen 127.0.0.1:8000]
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"log"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// User is a user of the demo API.
type User struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Order is an order of the demo API.
type Order struct {
	ID       int             `json:"id"`
	Item     string          `json:"item"`
	Quantity int             `json:"quantity"`
	Created  time.Time       `json:"created"`
	Extra    json.RawMessage `json:"extra,omitempty"`
}

// Store holds the demo data. Its zero value is not usable; use NewStore.
type Store struct {
	users []User

	mu     sync.Mutex
	orders []Order
	nextID int
}

// NewStore returns a store with a few users and no orders.
func NewStore() *Store {
	return &Store{
		users: []User{
			{ID: "1", Name: "Ada Lovelace", Email: "ada@example.com"},
			{ID: "2", Name: "Alan Turing", Email: "alan@example.com"},
			{ID: "3", Name: "Grace Hopper", Email: "grace@example.com"},
		},
		nextID: 1,
	}
}

// Handler returns the HTTP handler of the demo API, logging every request
// to logger.
func (s *Store) Handler(logger *log.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users", s.listUsers)
	mux.HandleFunc("GET /users/{id}", s.getUser)
	mux.HandleFunc("GET /orders", s.listOrders)
	mux.HandleFunc("POST /orders", s.createOrder)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			origin = "-"
		}
		logger.Printf("%s %s origin=%s", r.Method, r.URL.RequestURI(), origin)
		mux.ServeHTTP(w, r)
	})
}

func (s *Store) listUsers(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.users)
}

func (s *Store) getUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	for _, u := range s.users {
		if u.ID == id {
			writeJSON(w, http.StatusOK, u)
			return
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "user " + strconv.Quote(id) + " not found"})
}

func (s *Store) listOrders(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	orders := append([]Order{}, s.orders...)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, orders)
}

func (s *Store) createOrder(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Item     string          `json:"item"`
		Quantity int             `json:"quantity"`
		Extra    json.RawMessage `json:"extra"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	if err := dec.Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid JSON body: " + err.Error()})
		return
	}
	if in.Item == "" {
		in.Item = "unnamed item"
	}
	if in.Quantity <= 0 {
		in.Quantity = 1
	}
	s.mu.Lock()
	o := Order{ID: s.nextID, Item: in.Item, Quantity: in.Quantity, Created: time.Now().UTC(), Extra: in.Extra}
	s.nextID++
	s.orders = append(s.orders, o)
	s.mu.Unlock()
	w.Header().Set("Location", "/orders/"+strconv.Itoa(o.ID))
	writeJSON(w, http.StatusCreated, o)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8000", "address to listen on")
	flag.Parse()

	logger := log.New(log.Writer(), "demo-backend: ", log.LstdFlags)
	srv := &http.Server{
		Addr:              *listen,
		Handler:           NewStore().Handler(logger),
		ReadHeaderTimeout: 10 * time.Second,
	}
	logger.Printf("listening on http://%s", *listen)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Fatal(err)
	}
}
