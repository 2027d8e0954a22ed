"""Drives a hearsay node's NNTP gateway with Python's nntplib, a real client.

Usage: nntp_client.py HOST PORT TOKEN MODE GROUP [OTHER]
  MODE full:    every reader command, a new thread and a follow-up in GROUP,
                and a post to OTHER (a group this node may not write to),
                which must be refused with 441
  MODE numbers: the article numbers of GROUP and their message-ids
  MODE noposting: POST must be refused at once with 440
Prints one JSON object; any unmet expectation raises, and the exit code is 1.
"""
import datetime
import json
import sys
import warnings

warnings.simplefilter("ignore", DeprecationWarning)
import nntplib  # noqa: E402  (deprecated in 3.11, still shipped)

host, port, token, mode, name = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
other = sys.argv[6] if len(sys.argv) > 6 else None
out = {}


def expect_error(code, fn, *args):
    try:
        fn(*args)
    except (nntplib.NNTPTemporaryError, nntplib.NNTPPermanentError) as e:
        if not str(e).startswith(code):
            raise AssertionError(f"want {code}, got {e}")
        return str(e)
    raise AssertionError(f"want {code}, the command succeeded")


s = nntplib.NNTP(host, port, readermode=False, usenetrc=False)
if mode == "noposting":
    s.login("reader", token)
    out["post"] = expect_error("440", s.post, b"Newsgroups: x\r\nSubject: x\r\n\r\nx\r\n")
    s.quit()
    print(json.dumps(out))
    sys.exit(0)

caps = s.getcapabilities()
assert "AUTHINFO" in caps and "READER" in caps and "OVER" in caps, caps
out["unauthenticated"] = expect_error("480", s.group, name)
assert s._shortcmd("AUTHINFO USER reader").startswith("381")
out["wrong_password"] = expect_error("481", s._shortcmd, "AUTHINFO PASS not-the-token")
s.login("reader", token)
assert "AUTHINFO" not in s.getcapabilities()
assert s._shortcmd("MODE READER").startswith("200")

if mode == "numbers":
    _, count, first, last, _ = s.group(name)
    _, over = s.over((first, last))
    out["numbers"] = {str(n): f["message-id"] for n, f in over}
    s.quit()
    print(json.dumps(out))
    sys.exit(0)

_, groups = s.list()
out["groups"] = [g.group for g in groups]
assert name in out["groups"], out["groups"]
assert s.list(name)[1][0].group == name
out["descriptions"] = s.descriptions("*")
_, fmt = s._longcmdstring("LIST OVERVIEW.FMT")
assert fmt[:7] == ["Subject:", "From:", "Date:", "Message-ID:", "References:", ":bytes", ":lines"], fmt
_, headers = s._longcmdstring("LIST HEADERS")
assert ":" in headers, headers

_, count, first, last, gname = s.group(name)
assert gname == name and count >= 2 and first == 1, (count, first, last)
_, listed = s._longcmdstring("LISTGROUP " + name)
assert listed == [str(n) for n in range(first, last + 1)], listed

_, n, root_id = s.stat(first)
assert n == first
_, n2, reply_id = s.next()
assert n2 == first + 1
expect_error("421", s.next) if n2 == last else None
_, n3, _ = s.last()
assert n3 == first
expect_error("422", s.last)
expect_error("423", s.stat, last + 100)
expect_error("430", s.stat, "<nosuch@hearsay>")

_, art = s.article(first)
head = dict(l.decode().split(": ", 1) for l in art.lines[: art.lines.index(b"")])
assert head["Message-ID"] == root_id and head["Newsgroups"] == name, head
assert head["Subject"] == "Hello, newsreaders", head
body = [l.decode() for l in art.lines[art.lines.index(b"") + 1:]]
assert body == ["first line", ".a line that starts with a dot", "last line"], body
_, hd = s.head(first)
assert hd.lines == art.lines[: art.lines.index(b"")]
_, bd = s.body(first)
assert [l.decode() for l in bd.lines] == body
_, byid = s.article(reply_id)
assert byid.number == 0 and byid.message_id == reply_id
rhead = dict(l.decode().split(": ", 1) for l in byid.lines[: byid.lines.index(b"")])
assert rhead["References"] == root_id and rhead["Subject"] == "Re: Hello, newsreaders", rhead

_, over = s.over((first, last))
assert [n for n, _ in over] == list(range(first, last + 1)), over
assert over[0][1]["subject"] == "Hello, newsreaders" and over[0][1][":lines"] == "3", over[0]
assert over[1][1]["references"] == root_id
_, over_id = s.over(reply_id)
assert over_id[0][1]["message-id"] == reply_id
_, hdr = s._longcmdstring(f"HDR Subject {first}-{last}")
assert hdr[0] == f"{first} Hello, newsreaders", hdr
_, xhdr = s.xhdr("message-id", f"{first}-")
assert xhdr[0] == (str(first), root_id), xhdr

yesterday = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
_, new_groups = s.newgroups(yesterday)
assert name in [g.group for g in new_groups], new_groups
_, new_ids = s.newnews(name, yesterday)
assert root_id in new_ids and reply_id in new_ids, new_ids
_, nothing = s.newnews(name, datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1))
assert nothing == [], nothing
out["date"] = s.date()[1].isoformat()

resp = s.post(
    f"From: Reader <reader@example.org>\r\nNewsgroups: {name}\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= from nntplib\r\n"
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    "Posted through NNTP.\r\n.a line that starts with a dot\r\n".encode()
)
out["new_thread"] = resp.split()[-1]
resp = s.post(
    f"From: Reader <reader@example.org>\r\nNewsgroups: {name}\r\nSubject: Re: Hello, newsreaders\r\n"
    f"References: {root_id}\r\n\r\nA follow-up from nntplib.\r\n".encode()
)
out["follow_up"] = resp.split()[-1]
_, count2, _, last2, _ = s.group(name)
assert last2 == last + 2, (last, last2)
_, tail = s.over((last + 1, last2))
assert tail[0][1]["subject"] == "=?utf-8?q?Gr=C3=BC=C3=9Fe_from_nntplib?=" or "Grüße" in nntplib.decode_header(tail[0][1]["subject"]), tail
assert tail[1][1]["references"] == root_id and tail[1][1]["subject"] == "Re: Hello, newsreaders", tail
_, bd = s.body(out["new_thread"])
assert [l.decode() for l in bd.lines] == ["Posted through NNTP.", ".a line that starts with a dot"], bd.lines

if other:
    out["refused"] = expect_error(
        "441", s.post, f"Newsgroups: {other}\r\nSubject: not mine to write\r\n\r\nrefused\r\n".encode()
    )
out["unknown_group"] = expect_error("441", s.post, b"Newsgroups: no.such.group\r\nSubject: x\r\n\r\nx\r\n")
expect_error("411", s.group, "no.such.group")
s.quit()
print(json.dumps(out))
