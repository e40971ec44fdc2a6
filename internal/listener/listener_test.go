package listener_test

import (
	"net"
	"testing"
	"time"

	"github.com/corsgate/corsgate/internal/listener"
)

// The listener holds at most MaxConns connections: the next one waits in
// the kernel's queue until one closes.
func TestWrapCapsConnections(t *testing.T) {
	ln, err := listener.Limits{MaxConns: 2}.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	first, second := <-accepted, <-accepted
	select {
	case <-accepted:
		t.Fatal("a third connection was accepted past the cap of 2")
	case <-time.After(200 * time.Millisecond):
	}
	first.Close()
	select {
	case c := <-accepted:
		c.Close()
	case <-time.After(2 * time.Second):
		t.Fatal("the third connection was not accepted once one closed")
	}
	second.Close()
	if _, ok := first.(interface{ CloseWrite() error }); !ok {
		t.Error("a capped connection hides CloseWrite")
	}
}

func TestWith(t *testing.T) {
	l := listener.Limits{ReadTimeout: time.Second}.With(listener.Admin)
	if l.ReadTimeout != time.Second || l.ReadHeaderTimeout != listener.Admin.ReadHeaderTimeout || l.MaxConns != listener.Admin.MaxConns {
		t.Errorf("With: %+v", l)
	}
	if listener.Admin.WriteTimeout <= 2*time.Minute {
		t.Errorf("the admin write timeout %s does not outlast the longest ?wait=fleet", listener.Admin.WriteTimeout)
	}
	if n := listener.GatewayMaxConns(); n < 64 {
		t.Errorf("GatewayMaxConns = %d", n)
	}
}
