package tcpproxy_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/raftsim/raftsim/internal/live/tcpproxy"
	"github.com/raftsim/raftsim/sim"
)

func ExampleMemberID() {
	// etcd --initial-advertise-peer-urls http://127.0.0.1:45547 --initial-cluster-token raftsim-manual ...
	fmt.Printf("%x\n", tcpproxy.MemberID([]string{"http://127.0.0.1:45547"}, "raftsim-manual"))
	// Output: db121cd0daa48cf0
}

func Example() {
	// Two members' peer listeners; here, stand-ins that take any message.
	var targets []string
	for range 2 {
		m := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		}))
		defer m.Close()
		targets = append(targets, strings.TrimPrefix(m.URL, "http://"))
	}
	// The proxy's addresses are the members' advertised peer URLs, from
	// which etcd computes their IDs.
	nw, err := tcpproxy.Listen(2)
	if err != nil {
		panic(err)
	}
	defer nw.Close()
	ids := make([]uint64, 2)
	for j := range ids {
		ids[j] = tcpproxy.MemberID([]string{"http://" + nw.Addr(j)}, "example")
	}
	link := sim.Link{Latency: sim.ConstDist(10 * time.Millisecond)}
	err = nw.Start(tcpproxy.Config{IDs: ids, Targets: targets, Links: [][]sim.Link{{link, link}, {link, link}}, Seed: 1})
	if err != nil {
		panic(err)
	}

	// Member n1 sends a message to n2, as rafthttp's pipeline does.
	send := func() string {
		req, _ := http.NewRequest(http.MethodPost, "http://"+nw.Addr(1)+"/raft", strings.NewReader("message"))
		req.Header.Set("X-Server-From", fmt.Sprintf("%x", ids[0]))
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			return "refused"
		}
		resp.Body.Close()
		return resp.Status
	}
	fmt.Println(send())
	nw.Block(0, 1, true)
	fmt.Println(send())
	// Output:
	// 204 No Content
	// refused
}
