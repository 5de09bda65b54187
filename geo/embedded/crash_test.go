package embedded_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/paulmach/orb"

	"hazardmap/geo"
	"hazardmap/geo/embedded"
)

// crashChildEnv, when set to a directory, makes the test binary act as the
// writer process of TestSIGKILLLosesNoAcknowledgedWrite.
const crashChildEnv = "HAZARDMAP_CRASH_CHILD_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	os.Exit(m.Run())
}

// crashChild writes features forever, printing "ack ID" after each write
// returns, until it is killed.
func crashChild(dir string) {
	s, err := embedded.Open(dir)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	for i := 0; ; i++ {
		f := &geo.Feature{ID: fmt.Sprintf("w%06d", i), Geometry: orb.Point{113.4, 34.8}, Properties: map[string]any{
			"name": "崩溃测试", "kind": "road_spot", "status": "ponding", "depth_cm": float64(i), "location_source": "crash test",
		}}
		if err := s.Create(context.Background(), geo.WaterloggingPoints, f); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("ack", f.ID)
	}
}

// TestSIGKILLLosesNoAcknowledgedWrite kills a writing process with SIGKILL
// and checks that every write it acknowledged is there on reopen.
func TestSIGKILLLosesNoAcknowledgedWrite(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	sc := bufio.NewScanner(out)
	for sc.Scan() && len(acked) < 200 {
		line := sc.Text()
		id, ok := strings.CutPrefix(line, "ack ")
		if !ok {
			t.Fatalf("child said %q", line)
		}
		acked = append(acked, id)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if len(acked) < 200 {
		t.Fatalf("child acknowledged %d writes before exiting, want 200", len(acked))
	}

	s := open(t, dir)
	defer s.Close()
	for _, id := range acked {
		if _, err := s.Feature(context.Background(), geo.WaterloggingPoints, id); err != nil {
			t.Errorf("acknowledged write %s lost after SIGKILL: %v", id, err)
		}
	}
	var in geo.CollectionInfo
	err = s.Read(context.Background(), func(v geo.View) (err error) {
		in, err = v.Collection(context.Background(), geo.WaterloggingPoints)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if in.Count < len(acked) || in.Version != int64(in.Count) {
		t.Errorf("after SIGKILL: count %d version %d, want count ≥ %d and version = count", in.Count, in.Version, len(acked))
	}
	// Each write and its audit entry committed together: one entry per
	// stored feature, none more.
	entries, n, err := s.Audit(context.Background(), geo.AuditQuery{Collection: geo.WaterloggingPoints})
	if err != nil {
		t.Fatal(err)
	}
	if n != in.Count || len(entries) != n {
		t.Errorf("after SIGKILL: %d audit entries for %d features, want one each", n, in.Count)
	}
	for _, e := range entries {
		if _, err := s.Feature(context.Background(), geo.WaterloggingPoints, e.FeatureID); err != nil {
			t.Errorf("audit entry %d records %s, which is not stored: %v", e.Seq, e.FeatureID, err)
		}
	}
}

// TestSecondOpenFailsFast checks that a second process (here, a second
// Open) cannot open a data directory in use, and says why.
func TestSecondOpenFailsFast(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	defer s.Close()
	_, err := embedded.Open(dir)
	if err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("second Open = %v, want an error saying the file is locked", err)
	}
}
