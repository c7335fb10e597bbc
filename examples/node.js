#!/usr/bin/env node
// A Raft leader-election node that speaks the course's HTTP API, for
// Node.js with no npm packages.
//
// Written from the chapter's design with its bugs fixed: the majority counts
// the whole cluster, a candidate whose election splits campaigns again, RPCs
// are real HTTP calls, and a candidate steps down on an AppendEntries of its
// own term. No log replication: its log stays empty, which raftsim tolerates
// (internal/node/wire/CONTRACT.md).
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
//   RAFT_BUG=peers-majority  count the majority over the peers only (the chapter's bug)
//   RAFT_BUG=no-retry        a candidate never campaigns again after a split vote
//
// Run three by hand:
//   NODE_ID=n1 PORT=3001 PEERS=n2=127.0.0.1:3002,n3=127.0.0.1:3003 node examples/node.js
// or let raftsim do it: raftsim cluster --cmd 'node examples/node.js'

'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');

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
  bug: env.RAFT_BUG || '',
};
if (!['', 'peers-majority', 'no-retry'].includes(config.bug)) {
  console.error(`RAFT_BUG=${config.bug}: want peers-majority or no-retry`);
  process.exit(2);
}

class RaftNode {
  constructor(cfg) {
    this.cfg = cfg;
    this.stateFile = path.join(cfg.dataDir, `raft-state-${cfg.id}.json`);
    this.term = 0; // persistent: loaded below
    this.votedFor = null;
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
    try {
      const saved = JSON.parse(fs.readFileSync(this.stateFile, 'utf8'));
      this.term = saved.term;
      this.votedFor = saved.votedFor;
    } catch (e) {
      if (e.code !== 'ENOENT') throw e;
    }
  }

  persist() {
    const tmp = this.stateFile + '.tmp';
    const fd = fs.openSync(tmp, 'w');
    fs.writeSync(fd, JSON.stringify({ term: this.term, votedFor: this.votedFor }));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, this.stateFile);
    const dir = fs.openSync(this.cfg.dataDir, 'r');
    fs.fsyncSync(dir);
    fs.closeSync(dir);
  }

  // ---------- state changes ----------

  logState() {
    const t = new Date().toISOString().slice(11, 23);
    console.log(`${t} ${this.cfg.id} ${this.state} term=${this.term} leader=${this.leader || 'none'}`);
  }

  majority() {
    const peers = Object.keys(this.cfg.peers).length;
    if (this.cfg.bug === 'peers-majority') return Math.floor(peers / 2) + 1; // the chapter's bug: wrong for even clusters
    return Math.floor((peers + 1) / 2) + 1;
  }

  resetTimer() {
    clearTimeout(this.timer);
    const { timeoutMin, timeoutMax } = this.cfg;
    this.timer = setTimeout(() => this.timeout(), timeoutMin + Math.random() * (timeoutMax - timeoutMin));
  }

  stepDown(term) {
    this.election += 1; // a campaign (or Pre-Vote round) under way is over
    const was = [this.state, this.term, this.leader].join();
    this.term = term;
    this.votedFor = null;
    this.state = 'follower';
    this.leader = null;
    clearInterval(this.heartbeats);
    this.persist();
    if (was !== [this.state, this.term, this.leader].join()) this.logState();
  }

  follow(leader) {
    this.election += 1; // a leader exists: a Pre-Vote round under way is over
    if (this.state !== 'follower' || this.leader !== leader) {
      this.state = 'follower';
      this.leader = leader;
      clearInterval(this.heartbeats);
      this.logState();
    }
    this.heardLeaderAt = Date.now();
    this.resetTimer();
  }

  // ---------- RPC handlers ----------

  requestVote(args) {
    if (args.term < this.term) return { term: this.term, voteGranted: false };
    if (args.term > this.term) this.stepDown(args.term);
    // Our log is empty, so every candidate's is at least as up-to-date.
    const grant = this.votedFor === null || this.votedFor === args.candidateId;
    if (grant) {
      this.votedFor = args.candidateId;
      this.persist(); // before the answer leaves
      this.election += 1; // voting for another, we stop campaigning
      this.resetTimer();
    }
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
    return { term: this.term, success: (args.prevLogIndex || 0) === 0 && !(args.entries || []).length };
  }

  status() {
    return { id: this.cfg.id, state: this.state, term: this.term, leader: this.leader };
  }

  // ---------- elections ----------

  timeout() {
    this.resetTimer();
    if (this.state === 'leader') return;
    if (this.state === 'candidate' && this.cfg.bug === 'no-retry') return; // the chapter's bug
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
    this.persist();
    this.logState();
    this.resetTimer();
    const election = ++this.election;
    this.askVotes('/raft/request-vote', this.term, election, () => this.becomeLeader(election));
  }

  // Ask every peer for a (pre-)vote in term; call won() once a majority,
  // this node included, has granted it.
  askVotes(path, term, election, won) {
    let granted = 1;
    if (granted >= this.majority()) return won();
    const args = { term, candidateId: this.cfg.id, lastLogIndex: 0, lastLogTerm: 0 };
    for (const addr of Object.values(this.cfg.peers)) {
      this.call(addr, path, args, (reply) => {
        if (reply.term > this.term && !(path === '/raft/pre-vote' && reply.voteGranted)) return this.stepDown(reply.term);
        if (election !== this.election || !reply.voteGranted) return;
        granted += 1;
        if (granted === this.majority()) won();
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
          if (reply.term > this.term) this.stepDown(reply.term);
        });
      }
    };
    beat();
    this.heartbeats = setInterval(beat, this.cfg.heartbeat);
  }

  call(addr, path, args, onReply) {
    const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))];
    const body = JSON.stringify(args);
    const req = http.request({ host, port, path, method: 'POST', timeout: this.cfg.timeoutMax,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      let data = '';
      res.on('data', (chunk) => { data += chunk; });
      res.on('end', () => {
        if (res.statusCode !== 200) return;
        try { onReply(JSON.parse(data)); } catch (e) { /* not an answer: none */ }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => {}); // lost, refused, timed out: no answer
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
  const answer = (code, body) => {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.method === 'GET' && req.url === '/status') return answer(200, node.status());
  const route = req.method === 'POST' && routes[req.url];
  if (!route) return answer(404, { error: `no endpoint ${req.method} ${req.url}` });
  let data = '';
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
server.keepAliveTimeout = 30000;
server.listen(config.port, '127.0.0.1', () => node.logState());
