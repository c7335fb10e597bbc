#!/usr/bin/env node
// A Raft leader-election node that speaks the course's HTTP API, for
// Node.js with no npm packages.
//
// Written from the chapter's design with its bugs fixed: the majority counts
// the whole cluster, a candidate whose election splits campaigns again, RPCs
// are real HTTP calls, a candidate steps down on an AppendEntries of its own
// term, term and vote reach the disk before any answer, and a candidate wins
// as soon as a majority has granted its vote. No log replication: its log
// stays empty, which raftsim tolerates (internal/node/wire/CONTRACT.md).
//
// Environment (the chapter's docker-compose variables, and raftsim's):
//   NODE_ID                  this node's name, e.g. n1
//   PORT                     the port to listen on, on 127.0.0.1
//   PEERS                    n2=127.0.0.1:3002,n3=127.0.0.1:3003 (or node2:3002: host = name)
//   DATA_DIR                 where term and vote are kept (default: the current directory)
//   ELECTION_TIMEOUT_MIN_MS  default 150
//   ELECTION_TIMEOUT_MAX_MS  default 300
//   HEARTBEAT_MS             default 50
//   RAFT_PREVOTE=1           run a Pre-Vote round before each election
//   RAFT_BUG=NAME[,NAME...]  switch on the chapter's bugs, one or several:
//     peers-majority   the majority is counted over the peers only, floor(peers/2) + 1
//     no-retry         a candidate whose election splits never campaigns again
//                      (its timer only fires for followers)
//     candidate-stays  a candidate that hears an AppendEntries of its own term
//                      only resets its timer and records the leader: it stays a
//                      candidate (/status says candidate, with a leader)
//     no-persist       term and vote kept only in memory: a restarted node starts
//                      from term 0 with no vote
//     wait-all-votes   a candidate counts its votes (and pre-votes) only once every
//                      peer has answered, failed or timed out (the chapter's
//                      Promise.allSettled): a frozen peer holds it up for the RPC
//                      timeout (1 s, below)
//     chapter          all five: the chapter's code as written
//
// Every RPC to a peer times out after 1 s: an RPC unanswered by then is lost.
//
// Run three by hand:
//   NODE_ID=n1 PORT=3001 PEERS=n2=127.0.0.1:3002,n3=127.0.0.1:3003 node examples/node.js
// or let raftsim do it: raftsim cluster --cmd 'node examples/node.js'

'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');

// The chapter's bugs, by the name RAFT_BUG takes; "chapter" is all of them.
const BUGS = ['peers-majority', 'no-retry', 'candidate-stays', 'no-persist', 'wait-all-votes'];

// parseBugs reads RAFT_BUG: comma-separated names of BUGS, or chapter; it
// exits on any other.
function parseBugs(text) {
  const bugs = new Set();
  for (let name of (text || '').split(',')) {
    name = name.trim();
    if (name === 'chapter') BUGS.forEach((b) => bugs.add(b));
    else if (BUGS.includes(name)) bugs.add(name);
    else if (name) {
      console.error(`RAFT_BUG=${text}: unknown bug '${name}'; the bugs are ${BUGS.join(', ')}, or chapter for all of them (comma-separated)`);
      process.exit(2);
    }
  }
  return bugs;
}

function parsePeers(text) {
  const peers = {};
  for (let item of (text || '').split(',')) {
    item = item.trim();
    if (!item) continue;
    const eq = item.indexOf('=');
    if (eq >= 0) peers[item.slice(0, eq)] = item.slice(eq + 1);
    else peers[item.slice(0, item.lastIndexOf(':'))] = item;
  }
  return peers;
}

const env = process.env;
const ms = (name, def) => Number(env[name] || def);
const config = {
  id: env.NODE_ID,
  port: Number(env.PORT),
  peers: parsePeers(env.PEERS),
  dataDir: env.DATA_DIR || '.',
  timeoutMin: ms('ELECTION_TIMEOUT_MIN_MS', 150),
  timeoutMax: ms('ELECTION_TIMEOUT_MAX_MS', 300),
  heartbeat: ms('HEARTBEAT_MS', 50),
  prevote: env.RAFT_PREVOTE === '1',
  bugs: parseBugs(env.RAFT_BUG),
};
config.rpcTimeout = 1000; // ms: an RPC unanswered by then is lost

// Calls to peers reuse their connections, with Nagle's algorithm off: a
// request goes out at once, in one segment.
const agent = new http.Agent({ keepAlive: true });

class RaftNode {
  constructor(cfg) {
    this.cfg = cfg;
    this.bugs = cfg.bugs;
    this.stateFile = path.join(cfg.dataDir, `raft-state-${cfg.id}.json`);
    this.term = 0; // persistent: loaded below
    this.votedFor = null;
    this.saved = [0, null]; // what the disk holds
    this.load();
    this.state = 'follower';
    this.leader = null;
    this.heardLeaderAt = null; // when an AppendEntries of the current leader last arrived
    this.election = 0; // bumped by each campaign, and whenever one is over: replies of older ones are ignored
    this.timer = null;
    this.heartbeats = null;
    this.resetTimer();
  }

  // ---------- persistence: term and vote on disk before any answer ----------

  load() {
    if (this.bugs.has('no-persist')) return; // the chapter's bug: a restart forgets term and vote
    try {
      const saved = JSON.parse(fs.readFileSync(this.stateFile, 'utf8'));
      this.term = saved.term;
      this.votedFor = saved.votedFor;
      this.saved = [this.term, this.votedFor];
    } catch (e) {
      if (e.code !== 'ENOENT') throw e;
    }
  }

  // save writes term and vote, if they changed, atomically and durably: a
  // new file, synced, renamed over the old one, and the directory synced.
  save() {
    if ((this.term === this.saved[0] && this.votedFor === this.saved[1]) || this.bugs.has('no-persist')) return;
    const tmp = this.stateFile + '.tmp';
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, JSON.stringify({ term: this.term, votedFor: this.votedFor }));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.stateFile);
    const dir = fs.openSync(this.cfg.dataDir, 'r');
    try {
      fs.fsyncSync(dir);
    } finally {
      fs.closeSync(dir);
    }
    this.saved = [this.term, this.votedFor];
  }

  // ---------- state changes ----------

  logState() {
    const t = new Date().toISOString().slice(11, 23);
    console.log(`${t} ${this.cfg.id} ${this.state} term=${this.term} leader=${this.leader || 'none'}`);
  }

  majority() {
    const peers = Object.keys(this.cfg.peers).length;
    if (this.bugs.has('peers-majority')) return Math.floor(peers / 2) + 1; // the chapter's bug: wrong for even clusters
    return Math.floor((peers + 1) / 2) + 1;
  }

  resetTimer() {
    clearTimeout(this.timer);
    const { timeoutMin, timeoutMax } = this.cfg;
    this.timer = setTimeout(() => this.timeout(), timeoutMin + Math.random() * (timeoutMax - timeoutMin));
  }

  // adopt takes a higher term: a follower with no vote in it. The caller
  // saves before it answers or sends anything.
  adopt(term) {
    this.election += 1; // a campaign (or Pre-Vote round) under way is over
    const was = [this.state, this.term, this.leader].join();
    this.term = term;
    this.votedFor = null;
    this.state = 'follower';
    this.leader = null;
    clearInterval(this.heartbeats);
    if (was !== [this.state, this.term, this.leader].join()) this.logState();
  }

  stepDown(term) {
    this.adopt(term);
    this.save();
  }

  // follow hears from the leader of our term.
  follow(leader) {
    if (this.state === 'candidate' && this.bugs.has('candidate-stays')) {
      // The chapter's receiveHeartbeat: record the leader, reset the timer,
      // and stay a candidate.
      if (this.leader !== leader) {
        this.leader = leader;
        this.logState();
      }
    } else {
      this.election += 1; // a leader exists: a campaign or Pre-Vote round under way is over
      if (this.state !== 'follower' || this.leader !== leader) {
        this.state = 'follower';
        this.leader = leader;
        clearInterval(this.heartbeats);
        this.logState();
      }
    }
    this.heardLeaderAt = Date.now();
    this.resetTimer();
  }

  // ---------- RPC handlers ----------

  requestVote(args) {
    if (args.term < this.term) return { term: this.term, voteGranted: false };
    if (args.term > this.term) this.adopt(args.term);
    // The log up-to-date rule, for a log that stays empty: ours ends at
    // index 0 of term 0, so every candidate's is at least as up-to-date.
    const [lastLogTerm, lastLogIndex] = [0, 0];
    const [theirTerm, theirIndex] = [args.lastLogTerm || 0, args.lastLogIndex || 0];
    const upToDate = theirTerm > lastLogTerm || (theirTerm === lastLogTerm && theirIndex >= lastLogIndex);
    const grant = (this.votedFor === null || this.votedFor === args.candidateId) && upToDate;
    if (grant) {
      this.votedFor = args.candidateId;
      this.election += 1; // voting for another, we stop campaigning
      this.resetTimer();
    }
    this.save(); // a new term or vote reaches the disk before the answer leaves
    return { term: this.term, voteGranted: grant };
  }

  preVote(args) {
    // Would we vote for this candidate in args.term? Changes nothing.
    const heard = this.heardLeaderAt !== null && Date.now() - this.heardLeaderAt < this.cfg.timeoutMin;
    const grant = args.term > this.term && !heard && this.state !== 'leader';
    return { term: grant ? args.term : this.term, voteGranted: grant };
  }

  appendEntries(args) {
    if (args.term < this.term) return { term: this.term, success: false };
    if (args.term > this.term) this.stepDown(args.term);
    this.follow(args.leaderId); // a candidate of this term steps down too
    // Our log is empty and stays so: we match only at 0, and cannot take
    // entries (no log replication).
    return { term: this.term, success: (args.prevLogIndex || 0) === 0 && !(args.entries || []).length, matchIndex: 0 };
  }

  status() {
    return { id: this.cfg.id, state: this.state, term: this.term, leader: this.leader };
  }

  // ---------- elections ----------

  timeout() {
    this.resetTimer();
    if (this.state === 'leader') return;
    if (this.state === 'candidate' && this.bugs.has('no-retry')) return; // the chapter's bug: only a follower's timeout starts an election
    if (this.cfg.prevote) {
      const election = ++this.election;
      this.askVotes('/raft/pre-vote', this.term + 1, election, () => {
        if (election === this.election && this.state !== 'leader') this.startElection();
      });
    } else {
      this.startElection();
    }
  }

  startElection() {
    this.term += 1;
    this.votedFor = this.cfg.id;
    this.state = 'candidate';
    this.leader = null;
    this.save();
    this.logState();
    this.resetTimer();
    const election = ++this.election;
    this.askVotes('/raft/request-vote', this.term, election, () => this.becomeLeader(election));
  }

  // askVotes asks every peer for a (pre-)vote in term, and calls won() once
  // a majority, this node included, has granted it (with wait-all-votes,
  // only once every peer has answered or failed).
  askVotes(path, term, election, won) {
    let granted = 1;
    let pending = Object.keys(this.cfg.peers).length;
    if (granted >= this.majority()) return won();
    const waitAll = this.bugs.has('wait-all-votes');
    const args = { term, candidateId: this.cfg.id, lastLogIndex: 0, lastLogTerm: 0 };
    for (const addr of Object.values(this.cfg.peers)) {
      this.call(addr, path, args, (reply) => {
        pending -= 1;
        if (reply !== null) {
          if (reply.term > this.term && !(path === '/raft/pre-vote' && reply.voteGranted)) this.stepDown(reply.term);
          else if (election === this.election && reply.voteGranted === true) granted += 1;
        }
        if (waitAll) {
          // The chapter's Promise.allSettled: count once all have settled.
          if (pending === 0 && granted >= this.majority()) won();
        } else if (reply !== null && granted === this.majority()) {
          won();
        }
      });
    }
  }

  becomeLeader(election) {
    if (election !== this.election || this.state !== 'candidate') return;
    this.state = 'leader';
    this.leader = this.cfg.id;
    this.logState();
    this.election += 1;
    const term = this.term;
    const beat = () => {
      if (this.state !== 'leader' || this.term !== term) return clearInterval(this.heartbeats);
      const args = { term, leaderId: this.cfg.id, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0 };
      for (const addr of Object.values(this.cfg.peers)) {
        this.call(addr, '/raft/append-entries', args, (reply) => {
          if (reply !== null && reply.term > this.term) this.stepDown(reply.term);
        });
      }
    };
    beat();
    this.heartbeats = setInterval(beat, this.cfg.heartbeat);
  }

  // call POSTs args to a peer and calls done once, with its reply, or with
  // null: refused, lost, timed out, not 200, or not a reply with a term.
  call(addr, path, args, done) {
    let settled = false;
    const settle = (reply) => {
      if (!settled) {
        settled = true;
        done(reply);
      }
    };
    const colon = addr.lastIndexOf(':');
    const body = JSON.stringify(args);
    const req = http.request({ agent, host: addr.slice(0, colon), port: Number(addr.slice(colon + 1)), path, method: 'POST',
      timeout: this.cfg.rpcTimeout,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { data += chunk; });
      res.on('end', () => {
        let reply = null;
        try {
          reply = JSON.parse(data);
        } catch (e) { /* not an answer: none */ }
        const ok = res.statusCode === 200 && reply !== null && typeof reply === 'object' && Number.isInteger(reply.term);
        settle(ok ? reply : null);
      });
    });
    req.setNoDelay(true);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', () => settle(null)); // refused, lost, timed out: no answer
    req.on('close', () => settle(null)); // closed without a whole answer (after one, a no-op)
    req.end(body);
  }
}

const node = new RaftNode(config);
const routes = {
  '/raft/request-vote': (a) => node.requestVote(a),
  '/raft/pre-vote': (a) => node.preVote(a),
  '/raft/append-entries': (a) => node.appendEntries(a),
  '/raft/heartbeat': (a) => node.appendEntries(a),
};

const server = http.createServer((req, res) => {
  // One write for headers and body (writeHead only queues the headers;
  // end sends them with the body), sent at once (TCP_NODELAY below).
  const answer = (code, body) => {
    const data = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
    res.end(data);
  };
  if (req.method === 'GET' && req.url === '/status') return answer(200, node.status());
  const route = req.method === 'POST' && routes[req.url];
  if (!route) return answer(404, { error: `no endpoint ${req.method} ${req.url}` });
  let data = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => { data += chunk; });
  req.on('end', () => {
    let args;
    try {
      args = JSON.parse(data);
      if (typeof args.term !== 'number') throw new Error('term must be a number');
    } catch (e) {
      return answer(400, { error: `bad request: ${e.message}` });
    }
    answer(200, route(args));
  });
});
// Nagle's algorithm off on every accepted connection: Node.js 18 and later
// do so by default, older ones do not.
server.on('connection', (socket) => socket.setNoDelay(true));
server.keepAliveTimeout = 30000;
server.listen(config.port, '127.0.0.1', () => node.logState());
