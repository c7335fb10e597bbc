package tcpproxy

import "testing"

func TestMemberIDIsTheIDEtcdGivesTheMember(t *testing.T) {
	// What etcd 3.4.23 members on loopback reported as their member_id
	// (POST /v3/maintenance/status), started with these
	// --initial-advertise-peer-urls and --initial-cluster-token.
	for _, tc := range []struct {
		url, token string
		want       uint64
	}{
		{"http://127.0.0.1:45547", "raftsim-manual", 15785711327234002160},
		{"http://127.0.0.1:36209", "raftsim-manual", 292443314494118508},
		{"http://127.0.0.1:36801", "raftsim-manual", 13391080780520496134},
		{"http://127.0.0.1:37281", "raftsim-manual", 14290907737136903911},
	} {
		if got := MemberID([]string{tc.url}, tc.token); got != tc.want {
			t.Errorf("MemberID(%s, %s) = %d, want %d", tc.url, tc.token, got, tc.want)
		}
	}
}

func TestMemberIDHashesTheURLsSortedAndAsGoPrintsThem(t *testing.T) {
	a, b := "http://127.0.0.1:2380", "http://127.0.0.2:2380"
	if MemberID([]string{a, b}, "t") != MemberID([]string{b, a}, "t") {
		t.Error("the order of the URLs changes the ID; etcd sorts them")
	}
	if MemberID([]string{" HTTP://127.0.0.1:2380"}, "t") != MemberID([]string{a}, "t") {
		t.Error("a URL etcd reads the same way gives another ID")
	}
	if MemberID([]string{a}, "t") == MemberID([]string{a}, "u") {
		t.Error("the cluster token does not change the ID")
	}
}
