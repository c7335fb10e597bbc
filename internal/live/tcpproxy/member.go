package tcpproxy

import (
	"crypto/sha1"
	"encoding/binary"
	"net/url"
	"slices"
	"strings"
)

// MemberID returns the ID etcd 3.4 gives a member of a new cluster whose
// peer URLs are peerURLs (--initial-advertise-peer-urls, as
// --initial-cluster lists them) and whose --initial-cluster-token is
// clusterToken (etcd's default is "etcd-cluster"). The proxy needs it to
// tell who dialed: rafthttp names the dialer by this ID, in hexadecimal, in
// its X-Server-From header.
//
// etcd (etcdserver/api/membership, NewMember, called with no time for the
// members of --initial-cluster) parses the URLs and prints them back
// (types.NewURLs), sorts the strings, concatenates them and the token, and
// takes the first 8 bytes of the SHA-1 of that, big-endian. A member added
// later to a running cluster also hashes the time it was added: its ID is
// not this one. URLs are expected valid (etcd refuses the others); one that
// does not parse is hashed as it is written.
func MemberID(peerURLs []string, clusterToken string) uint64 {
	urls := make([]string, len(peerURLs))
	for k, s := range peerURLs {
		s = strings.TrimSpace(s)
		if u, err := url.Parse(s); err == nil {
			s = u.String() // etcd hashes the URL as Go prints it back
		}
		urls[k] = s
	}
	slices.Sort(urls)
	sum := sha1.Sum([]byte(strings.Join(urls, "") + clusterToken))
	return binary.BigEndian.Uint64(sum[:8])
}
