package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/corsgate/corsgate/store"
	"github.com/corsgate/corsgate/store/storetest"
)

func TestMemoryContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return store.NewMemory() })
}

// The failures a Memory can be told to have are the ones the code above
// the store must survive; each must behave as documented.
func TestMemoryFailures(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory()
	down := errors.New("connection refused")
	m.SetDown(down)
	if _, err := m.Current(ctx); !errors.Is(err, down) {
		t.Errorf("Current while down: %v", err)
	}
	m.SetDown(nil)

	m.Corrupt("it is a string")
	if _, err := m.Current(ctx); !errors.Is(err, store.ErrBadRecord) {
		t.Errorf("Current of a corrupt value: %v, want ErrBadRecord", err)
	}
	lost := errors.New("the answer was lost")
	m.LoseNextAnswer(lost)
	if _, err := m.Commit(ctx, 0, store.Record{Layer: []byte(`{}`)}); !errors.Is(err, lost) {
		t.Errorf("Commit with a lost answer: %v", err)
	}
	if rec, err := m.Current(ctx); err != nil || rec.Revision != 1 {
		t.Errorf("after a lost answer the record must be stored: %+v %v", rec, err)
	}
}

// Watch gives every change, the error of a value that is not a record,
// and the store's health.
func TestMemoryWatch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := store.NewMemory()
	changes := make(chan string, 10)
	health := make(chan error, 10)
	go m.Watch(ctx, 0, func(rec store.Record, err error) {
		if err != nil {
			changes <- "bad"
			return
		}
		changes <- string(rec.Layer)
	}, func(err error) { health <- err })
	if err := <-health; err != nil {
		t.Fatalf("first health: %v", err)
	}
	m.Commit(ctx, 0, store.Record{Layer: []byte(`{"cors_off":true}`)})
	if got := next(t, changes); got != `{"cors_off":true}` {
		t.Errorf("change %q", got)
	}
	m.Corrupt("junk")
	if got := next(t, changes); got != "bad" {
		t.Errorf("corrupt value gave %q", got)
	}
	m.SetDown(errors.New("down"))
	if err := <-health; err == nil {
		t.Error("no outage reported")
	}
	m.SetDown(nil)
	if err := <-health; err != nil {
		t.Errorf("recovery reported as %v", err)
	}
}

func next(t *testing.T, c chan string) string {
	t.Helper()
	select {
	case s := <-c:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("no change given")
		return ""
	}
}
