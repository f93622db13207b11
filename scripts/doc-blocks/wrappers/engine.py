"""Wrapper for `python fragment=engine` blocks: a `key`, an `engine`, an access `token` of
user "alice", and a logger `log`."""

import logging

import keyfob

key = "change-me-to-32-or-more-random-bytes!"
engine = keyfob.Engine(key)
token = engine.login("alice").access
log = logging.getLogger("docs")

BLOCK
