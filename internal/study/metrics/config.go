package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// etcd's defaults, which hold when neither the command line nor the
// environment (ETCD_HEARTBEAT_INTERVAL, ETCD_ELECTION_TIMEOUT) nor a
// --config-file sets them.
const (
	EtcdHeartbeat       = 100 * time.Millisecond
	EtcdElectionTimeout = 1000 * time.Millisecond
)

// Config is a member's heartbeat interval and election timeout as its
// command line gives them. etcd 3.4 exposes neither as a metric; its
// /debug/vars holds the command line (cmdline), which shows them when
// they were given there. Otherwise they are etcd's defaults, unless the
// environment or a configuration file (ConfigFile) set them, which
// /debug/vars does not show: the user must say.
type Config struct {
	Heartbeat, ElectionTimeout time.Duration
	// HeartbeatGiven and ElectionGiven say which were on the command line.
	HeartbeatGiven, ElectionGiven bool
	ConfigFile                    string // --config-file, if given
}

// LoadConfig reads a member's command line from src: the /debug/vars of
// a member whose /metrics (or any URL of its client port) src is, or a
// file holding what /debug/vars answered.
func LoadConfig(ctx context.Context, src string) (Config, error) {
	if isURL(src) {
		u, err := url.Parse(src)
		if err != nil {
			return Config{}, fmt.Errorf("%s: %v", src, err)
		}
		u.Path, u.RawQuery, u.Fragment = "/debug/vars", "", ""
		src = u.String()
	}
	data, _, err := fetch(ctx, src)
	if err != nil {
		return Config{}, err
	}
	return ReadConfig(data, src)
}

// ReadConfig reads the command line in /debug/vars's JSON, data; source
// names it in errors.
func ReadConfig(data []byte, source string) (Config, error) {
	var vars struct {
		Cmdline []string `json:"cmdline"`
	}
	if err := json.Unmarshal(data, &vars); err != nil {
		return Config{}, fmt.Errorf("%s: not etcd's /debug/vars: %v", source, err)
	}
	if len(vars.Cmdline) == 0 {
		return Config{}, fmt.Errorf("%s: no cmdline: not etcd's /debug/vars", source)
	}
	c := Config{Heartbeat: EtcdHeartbeat, ElectionTimeout: EtcdElectionTimeout}
	args := vars.Cmdline[1:]
	for i := 0; i < len(args); i++ {
		name, val, hasVal := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !strings.HasPrefix(args[i], "-") {
			continue
		}
		if !hasVal && i+1 < len(args) {
			val = args[i+1]
		}
		var err error
		switch name {
		case "heartbeat-interval":
			c.Heartbeat, err = millis(val)
			c.HeartbeatGiven = true
		case "election-timeout":
			c.ElectionTimeout, err = millis(val)
			c.ElectionGiven = true
		case "config-file":
			c.ConfigFile = val
		}
		if err != nil {
			return Config{}, fmt.Errorf("%s: cmdline: --%s %q: want a whole number of milliseconds", source, name, val)
		}
	}
	return c, nil
}

func millis(s string) (time.Duration, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	return time.Duration(n) * time.Millisecond, err
}
