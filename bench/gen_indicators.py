#!/usr/bin/env python3
"""Stream N STIX 2.1 indicators (documentation addresses only) as one bundle
on stdout, without holding them in memory.  usage: gen_indicators.py N [PRODUCER]"""
import sys
import uuid

n = int(sys.argv[1])
producer = sys.argv[2] if len(sys.argv) > 2 else None
w = sys.stdout.write
w('{"type":"bundle","id":"bundle--%s","objects":[\n' % uuid.uuid4())
by = ',"created_by_ref":"%s"' % producer if producer else ""
for i in range(n):
    a, b = divmod(i, 256)
    net = ("192.0.2", "198.51.100", "203.0.113")[a % 3]
    w('%s{"type":"indicator","spec_version":"2.1","id":"indicator--%s",'
      '"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",'
      '"pattern":"[ipv4-addr:value = \'%s.%d\'] AND [x-bench:n = %d]","pattern_type":"stix",'
      '"valid_from":"2024-01-01T00:00:00Z","object_marking_refs":'
      '["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]%s}\n'
      % ("," if i else "", uuid.uuid4(), net, b, i, by))
w("]}\n")
