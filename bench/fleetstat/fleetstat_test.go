package fleetstat

import (
	"strings"
	"testing"
)

func TestParseMetrics(t *testing.T) {
	text := `# HELP grpc_server_handled_total Total number of RPCs completed on the server.
grpc_server_handled_total{grpc_code="OK",grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"} 12
grpc_server_handled_total{grpc_code="Unavailable",grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"} 3
grpc_server_handled_total{grpc_code="OK",grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary"} 7
grpc_server_handled_total{grpc_code="OK",grpc_method="Watch",grpc_service="etcdserverpb.Watch",grpc_type="bidi_stream"} 2
grpc_server_msg_received_total{grpc_method="LeaseKeepAlive",grpc_service="etcdserverpb.Lease",grpc_type="bidi_stream"} 40
grpc_server_msg_received_total{grpc_method="Watch",grpc_service="etcdserverpb.Watch",grpc_type="bidi_stream"} 5
grpc_server_msg_received_total{grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary"} 7
`
	c, err := ParseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if c["Range/call"] != 15 || c["Put/call"] != 7 || c["Watch/msg"] != 5 || c["LeaseKeepAlive/msg"] != 40 || c["Watch/call"] != 0 {
		t.Errorf("counts %v", c)
	}
	if got := c.Requests(); got != 27 { // 15 Range + 7 Put + 5 Watch messages, keep-alives apart
		t.Errorf("Requests() = %v, want 27", got)
	}
	if got := c.Writes(); got != 7 {
		t.Errorf("Writes() = %v, want 7", got)
	}
	d := c.Minus(Counts{"Range/call": 10, "Put/call": 7})
	if d["Range/call"] != 5 || len(d) != 3 {
		t.Errorf("Minus: %v", d)
	}
	if _, err := ParseMetrics(strings.NewReader(`grpc_server_handled_total{grpc_method="Put",grpc_type="unary"} x`)); err == nil {
		t.Error("a counter that is not a number was accepted")
	}
}
