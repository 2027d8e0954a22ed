package node

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"hearsay/internal/entry"
	"hearsay/internal/home"
	"hearsay/internal/store"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// readerEnv, set in the environment of this test binary to a directory,
// makes it a reading peer (serveReader) with its home there instead of
// running tests: the peer of
// BenchmarkPostDuringFirstSync, whose decryption and decoding must not run
// on the measured node's goroutines, as they would not on a real network.
const readerEnv = "HEARSAY_BENCH_READER"

// readerNice runs the reading peer at a lower priority: a peer on another
// machine, as on a real network, takes none of this machine's cores.
var readerNice = flag.Int("reader.nice", 0, "the nice value of BenchmarkPostDuringFirstSync's reading peer")

func TestMain(m *testing.M) {
	if os.Getenv(readerEnv) != "" {
		if err := serveReader(os.Getenv(readerEnv), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "reader:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serveReader starts a node with its home in dir and a network, says
// "ready" on out, then reads requests "addr group want" from in, one a
// line, and answers each with "ok" when it has read the whole group from
// the node at addr (readGroup), or with the error.
func serveReader(dir string, in io.Reader, out io.Writer) error {
	h, _, err := home.Init(filepath.Join(dir, "home"))
	if err != nil {
		return err
	}
	n, err := Open(h, store.Options{FS: vfs.NewMem()}, nil)
	if err != nil {
		return err
	}
	defer n.Close()
	nw, err := n.StartNetwork(nil)
	if err != nil {
		return err
	}
	defer nw.Close()
	fmt.Fprintln(out, "ready")
	lines := bufio.NewScanner(in)
	for lines.Scan() {
		var addr, gid string
		var want int
		if _, err := fmt.Sscan(lines.Text(), &addr, &gid, &want); err != nil {
			return err
		}
		g, err := entry.ParseID(gid)
		if err != nil {
			return err
		}
		reply := "ok"
		if err := readGroup(nw, addr, g, want); err != nil {
			reply = strings.ReplaceAll(err.Error(), "\n", " ")
		}
		fmt.Fprintln(out, reply)
	}
	return lines.Err()
}

// readerProcess starts this test binary as a reading peer and returns a
// function that has it read group g from addr; the process is killed when
// tb ends.
func readerProcess(tb testing.TB, addr string, g entry.ID, want int) func() error {
	self, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(self)
	if *readerNice != 0 {
		cmd = exec.Command("nice", "-n", strconv.Itoa(*readerNice), self)
	}
	cmd.Env = append(os.Environ(), readerEnv+"="+tb.TempDir())
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		in.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	replies := bufio.NewScanner(outPipe)
	if !replies.Scan() || replies.Text() != "ready" {
		tb.Fatalf("the reading peer did not start: %v", replies.Err())
	}
	return func() error {
		if _, err := fmt.Fprintln(in, addr, g, want); err != nil {
			return err
		}
		if !replies.Scan() {
			return fmt.Errorf("the reading peer exited: %v", replies.Err())
		}
		if r := replies.Text(); r != "ok" {
			return fmt.Errorf("the reading peer: %s", r)
		}
		return nil
	}
}
