"""A correct node that uses only what the contract lets a node leave out.

It is examples/server.py changed in three ways, for the tests of what
raftsim does with such a node (TestHeartbeatOnlyNode):

- it serves AppendEntries only at the chapter's /raft/heartbeat, and
  answers 404 at /raft/append-entries (the contract makes the two paths
  one RPC), and sends its own heartbeats there;
- to an AppendEntries with entries it answers success true with
  matchIndex 0: it holds none (the contract's other way of saying so);
- it answers POST /propose with 400.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "examples"))
import server  # noqa: E402

append_entries = server.Node.append_entries


def heartbeat_only(self, args):
    reply = append_entries(self, args)
    if args.get("entries") and reply["term"] == args["term"]:
        reply = {"term": reply["term"], "success": True, "matchIndex": 0}
    return reply


server.Node.append_entries = heartbeat_only
server.Node.append_entries_path = "/raft/heartbeat"
handler_for = server.handler_for


def without_append_entries(node):
    base = handler_for(node)

    class Handler(base):
        def do_POST(self):
            if self.path == "/raft/append-entries":
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.answer(404, {"error": "no endpoint POST /raft/append-entries"})
            elif self.path == "/propose":
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.answer(400, {"error": "no writes here"})
            else:
                super().do_POST()

    return Handler


server.handler_for = without_append_entries

if __name__ == "__main__":
    server.main()
