#!/usr/bin/env python3
"""A Raft leader-election node that speaks the course's HTTP API.

Written from the chapter's design with its bugs fixed: the majority counts
the whole cluster, a candidate whose election splits campaigns again, RPCs
are real HTTP calls, a candidate steps down on an AppendEntries of its own
term, term and vote reach the disk before any answer, and a candidate wins
as soon as a majority has granted its vote. Standard library only. No log
replication: its log stays empty, which raftsim tolerates
(internal/node/wire/CONTRACT.md).

Environment (the chapter's docker-compose variables, and raftsim's):
  NODE_ID                  this node's name, e.g. n1
  PORT                     the port to listen on, on 127.0.0.1
  PEERS                    n2=127.0.0.1:3002,n3=127.0.0.1:3003 (or node2:3002: host = name)
  DATA_DIR                 where term and vote are kept (default: the current directory)
  ELECTION_TIMEOUT_MIN_MS  default 150
  ELECTION_TIMEOUT_MAX_MS  default 300
  HEARTBEAT_MS             default 50
  RAFT_PREVOTE=1           run a Pre-Vote round before each election
  RAFT_BUG=NAME[,NAME...]  switch on the chapter's bugs, one or several:
    peers-majority   the majority is counted over the peers only, peers//2 + 1
    no-retry         a candidate whose election splits never campaigns again
                     (its timer only fires for followers)
    candidate-stays  a candidate that hears an AppendEntries of its own term
                     only resets its timer and records the leader: it stays a
                     candidate (/status says candidate, with a leader)
    no-persist       term and vote kept only in memory: a restarted node starts
                     from term 0 with no vote
    wait-all-votes   a candidate counts its votes (and pre-votes) only once every
                     peer has answered, failed or timed out (the chapter's
                     Promise.allSettled): a frozen peer holds it up for the RPC
                     timeout (1 s, below)
    chapter          all five: the chapter's code as written

Every RPC to a peer times out after 1 s: an RPC unanswered by then is lost.

Run three by hand:
  NODE_ID=n1 PORT=3001 PEERS=n2=127.0.0.1:3002,n3=127.0.0.1:3003 python3 examples/server.py
or let raftsim do it: raftsim cluster --cmd 'python3 examples/server.py'
"""

import http.client
import json
import os
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FOLLOWER, CANDIDATE, LEADER = "follower", "candidate", "leader"

# The chapter's bugs, by the name RAFT_BUG takes; "chapter" is all of them.
BUGS = ("peers-majority", "no-retry", "candidate-stays", "no-persist", "wait-all-votes")


def parse_bugs(text):
    """RAFT_BUG: comma-separated names of BUGS, or chapter; exits on any other."""
    bugs = set()
    for name in text.split(","):
        name = name.strip()
        if name == "chapter":
            bugs.update(BUGS)
        elif name in BUGS:
            bugs.add(name)
        elif name:
            print(f"RAFT_BUG={text}: unknown bug {name!r}; the bugs are {', '.join(BUGS)}, "
                  "or chapter for all of them (comma-separated)", file=sys.stderr)
            sys.exit(2)
    return bugs


def parse_peers(text):
    """PEERS: NAME=HOST:PORT or HOST:PORT (the host is the name), comma-separated."""
    peers = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, addr = item.partition("=")
        if not sep:
            name, addr = item.rsplit(":", 1)[0], item
        peers[name] = addr
    return peers


def env_ms(name, default):
    return int(os.environ.get(name, default)) / 1000.0


class Node:
    # Where heartbeats go: the chapter's /raft/heartbeat is the same RPC.
    append_entries_path = "/raft/append-entries"

    def __init__(self):
        self.id = os.environ["NODE_ID"]
        self.peers = parse_peers(os.environ.get("PEERS", ""))
        self.timeout_min = env_ms("ELECTION_TIMEOUT_MIN_MS", 150)
        self.timeout_max = env_ms("ELECTION_TIMEOUT_MAX_MS", 300)
        self.rpc_timeout = 1.0  # seconds: an RPC unanswered by then is lost
        self.heartbeat_interval = env_ms("HEARTBEAT_MS", 50)
        self.prevote = os.environ.get("RAFT_PREVOTE") == "1"
        self.bugs = parse_bugs(os.environ.get("RAFT_BUG", ""))

        self.lock = threading.Condition()
        self.data_dir = os.environ.get("DATA_DIR", ".")
        self.state_file = os.path.join(self.data_dir, f"raft-state-{self.id}.json")
        self.term, self.voted_for = 0, None  # persistent: loaded below
        self.saved = (0, None)  # what the disk holds
        self.load()
        self.state = FOLLOWER
        self.leader = None
        self.heard_leader_at = None  # when an AppendEntries of the current leader last arrived
        self.deadline = 0.0
        self.election = 0  # bumped by each campaign, and whenever one is over: replies of older ones are ignored
        with self.lock:
            self.reset_timer()

    # ---------- persistence: term and vote on disk before any answer ----------

    def load(self):
        if "no-persist" in self.bugs:
            return  # the chapter's bug: a restart forgets term and vote
        try:
            with open(self.state_file) as f:
                saved = json.load(f)
            self.term, self.voted_for = saved["term"], saved["votedFor"]
            self.saved = (self.term, self.voted_for)
        except FileNotFoundError:
            pass

    def save(self):
        """Write term and vote, if they changed, atomically and durably: a
        new file, synced, renamed over the old one, and the directory synced."""
        if (self.term, self.voted_for) == self.saved or "no-persist" in self.bugs:
            return
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"term": self.term, "votedFor": self.voted_for}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.state_file)
        fd = os.open(self.data_dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        self.saved = (self.term, self.voted_for)

    # ---------- state changes (the caller holds the lock) ----------

    def log_state(self):
        print(f"{time.strftime('%H:%M:%S')} {self.id} {self.state} term={self.term} leader={self.leader or 'none'}", flush=True)

    def majority(self):
        if "peers-majority" in self.bugs:
            return len(self.peers) // 2 + 1  # the chapter's bug: wrong for even clusters
        return (len(self.peers) + 1) // 2 + 1

    def reset_timer(self):
        self.deadline = time.monotonic() + random.uniform(self.timeout_min, self.timeout_max)
        self.lock.notify_all()

    def adopt(self, term):
        """Adopt a higher term: a follower with no vote in it. The caller
        saves before it answers or sends anything."""
        self.election += 1  # a campaign (or Pre-Vote round) under way is over
        was = (self.state, self.term, self.leader)
        self.term, self.voted_for = term, None
        self.state, self.leader = FOLLOWER, None
        if was != (self.state, self.term, self.leader):
            self.log_state()

    def step_down(self, term):
        self.adopt(term)
        self.save()

    def follow(self, leader):
        """Hear from the leader of our term."""
        if self.state == CANDIDATE and "candidate-stays" in self.bugs:
            # The chapter's receive_heartbeat: record the leader, reset the
            # timer, and stay a candidate.
            if self.leader != leader:
                self.leader = leader
                self.log_state()
        else:
            self.election += 1  # a leader exists: a campaign or Pre-Vote round under way is over
            if self.state != FOLLOWER or self.leader != leader:
                self.state, self.leader = FOLLOWER, leader
                self.log_state()
        self.heard_leader_at = time.monotonic()
        self.reset_timer()

    # ---------- RPC handlers ----------

    def request_vote(self, args):
        with self.lock:
            if args["term"] < self.term:
                return {"term": self.term, "voteGranted": False}
            if args["term"] > self.term:
                self.adopt(args["term"])
            # The log up-to-date rule, for a log that stays empty: ours ends
            # at index 0 of term 0, so every candidate's is at least as
            # up-to-date.
            last_log_term, last_log_index = 0, 0
            up_to_date = (args.get("lastLogTerm", 0), args.get("lastLogIndex", 0)) >= (last_log_term, last_log_index)
            grant = self.voted_for in (None, args["candidateId"]) and up_to_date
            if grant:
                self.voted_for = args["candidateId"]
                self.election += 1  # voting for another, we stop campaigning
                self.reset_timer()
            self.save()  # a new term or vote reaches the disk before the answer leaves
            return {"term": self.term, "voteGranted": grant}

    def pre_vote(self, args):
        """Would we vote for this candidate in args["term"]? Changes nothing."""
        with self.lock:
            heard = self.heard_leader_at is not None and time.monotonic() - self.heard_leader_at < self.timeout_min
            grant = args["term"] > self.term and not heard and self.state != LEADER
            return {"term": args["term"] if grant else self.term, "voteGranted": grant}

    def append_entries(self, args):
        with self.lock:
            if args["term"] < self.term:
                return {"term": self.term, "success": False}
            if args["term"] > self.term:
                self.step_down(args["term"])
            self.follow(args["leaderId"])  # a candidate of this term steps down too
            # Our log is empty and stays so: we match only at 0, and cannot
            # take entries (no log replication).
            ok = args.get("prevLogIndex", 0) == 0 and not args.get("entries")
            return {"term": self.term, "success": ok, "matchIndex": 0}

    def status(self):
        with self.lock:
            return {"id": self.id, "state": self.state, "term": self.term, "leader": self.leader}

    # ---------- elections ----------

    def timer_loop(self):
        with self.lock:
            while True:
                wait = self.deadline - time.monotonic()
                if wait > 0:
                    self.lock.wait(wait)
                    continue
                self.reset_timer()
                if self.state == LEADER:
                    continue
                if self.state == CANDIDATE and "no-retry" in self.bugs:
                    continue  # the chapter's bug: only a follower's timeout starts an election
                self.campaign()

    def campaign(self):
        if self.prevote:
            self.election += 1
            self.ask_votes("/raft/pre-vote", self.term + 1, self.election, self.prevote_won)
        else:
            self.start_election()

    def prevote_won(self, election):
        if election == self.election and self.state != LEADER:
            self.start_election()

    def start_election(self):
        self.term += 1
        self.voted_for = self.id
        self.state, self.leader = CANDIDATE, None
        self.save()
        self.log_state()
        self.reset_timer()
        self.election += 1
        self.ask_votes("/raft/request-vote", self.term, self.election, self.become_leader)

    def ask_votes(self, path, term, election, won):
        """Ask every peer for a (pre-)vote in term; call won(election) under
        the lock once a majority, this node included, has granted it (with
        wait-all-votes, only once every peer has answered or failed)."""
        votes = {"granted": 1, "pending": len(self.peers)}
        if votes["granted"] >= self.majority():
            won(election)
            return
        args = {"term": term, "candidateId": self.id, "lastLogIndex": 0, "lastLogTerm": 0}
        wait_all = "wait-all-votes" in self.bugs

        def ask(addr):
            reply = self.call(addr, path, args)
            with self.lock:
                votes["pending"] -= 1
                if reply is not None:
                    granted = reply.get("voteGranted") is True
                    if reply["term"] > self.term and not (path == "/raft/pre-vote" and granted):
                        self.step_down(reply["term"])
                    elif election == self.election and granted:
                        votes["granted"] += 1
                if wait_all:
                    # The chapter's Promise.allSettled: count once all have settled.
                    if votes["pending"] == 0 and votes["granted"] >= self.majority():
                        won(election)
                elif reply is not None and votes["granted"] == self.majority():
                    won(election)

        for addr in self.peers.values():
            threading.Thread(target=ask, args=(addr,), daemon=True).start()

    def become_leader(self, election):
        if election != self.election or self.state != CANDIDATE:
            return
        self.state, self.leader = LEADER, self.id
        self.log_state()
        self.election += 1
        threading.Thread(target=self.heartbeat_loop, args=(self.term,), daemon=True).start()

    def heartbeat_loop(self, term):
        while True:
            with self.lock:
                if self.state != LEADER or self.term != term:
                    return
            args = {"term": term, "leaderId": self.id, "prevLogIndex": 0, "prevLogTerm": 0, "entries": [], "leaderCommit": 0}
            for addr in self.peers.values():
                threading.Thread(target=self.heartbeat, args=(addr, args), daemon=True).start()
            time.sleep(self.heartbeat_interval)

    def heartbeat(self, addr, args):
        reply = self.call(addr, self.append_entries_path, args)
        if reply is not None:
            with self.lock:
                if reply["term"] > self.term:
                    self.step_down(reply["term"])

    def call(self, addr, path, args):
        """POST args to a peer on a new connection (http.client disables
        Nagle's algorithm on it and sends headers and body in one write);
        return its reply, or None: refused, lost, timed out, not 200, or not
        a reply with a term."""
        host, port = addr.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=self.rpc_timeout)
        try:
            conn.request("POST", path, body=json.dumps(args).encode(),
                         headers={"Content-Type": "application/json", "Connection": "close"})
            resp = conn.getresponse()
            reply = json.loads(resp.read())
            if resp.status != 200 or not isinstance(reply, dict) or not isinstance(reply.get("term"), int):
                return None
            return reply
        except (OSError, ValueError, http.client.HTTPException):
            return None
        finally:
            conn.close()


def handler_for(node):
    routes = {"/raft/request-vote": node.request_vote, "/raft/pre-vote": node.pre_vote,
              "/raft/append-entries": node.append_entries, "/raft/heartbeat": node.append_entries}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Answer in one segment, at once. By default the handler writes the
        # headers and the body in two writes, and on a reused connection
        # Nagle's algorithm holds the body back until the client's delayed
        # ACK of the headers: about 40 ms a reply. A buffered wfile
        # (handle_one_request flushes it once the handler is done) sends the
        # whole answer in one write, and TCP_NODELAY sends it without delay.
        wbufsize = -1
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def answer(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/status":
                self.answer(200, node.status())
            else:
                self.answer(404, {"error": f"no endpoint GET {self.path}"})

        def do_POST(self):
            route = routes.get(self.path)
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            if route is None:
                self.answer(404, {"error": f"no endpoint POST {self.path}"})
                return
            try:
                args = json.loads(body)
                if not isinstance(args.get("term"), int):
                    raise ValueError("term must be a number")
                self.answer(200, route(args))
            except (ValueError, KeyError, AttributeError, TypeError) as e:
                self.answer(400, {"error": f"bad request: {e}"})

    return Handler


def main():
    node = Node()
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), handler_for(node))
    server.daemon_threads = True
    with node.lock:
        node.log_state()
    threading.Thread(target=node.timer_loop, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
