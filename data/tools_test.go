package data

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The dataset must read as it is in the GIS tools people use: GDAL's
// ogrinfo and the GeoJSON checker of the map (@placemarkio/check-geojson,
// the maintained successor of geojsonhint). Locally a missing tool skips;
// under CI it fails.

// tool returns the path of a program, skipping (or, under CI, failing) t
// when it is missing.
func tool(t *testing.T, path, hint string) string {
	t.Helper()
	if p, err := exec.LookPath(path); err == nil {
		return p
	}
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing under CI: %s", path, hint)
	}
	t.Skipf("%s is missing: %s", path, hint)
	return ""
}

// datasetFiles returns every GeoJSON file of the dataset, by path.
func datasetFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, dir := range []string{"seed", "context"} {
		matches, err := filepath.Glob(filepath.Join(dir, "*.geojson"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, matches...)
	}
	if len(files) < 6 {
		t.Fatalf("found %d dataset files, want the 3 seed and 3 context layers", len(files))
	}
	return files
}

var featureCountRE = regexp.MustCompile(`(?m)^Feature Count: (\d+)$`)

func TestOGRInfoReadsEveryFile(t *testing.T) {
	ogrinfo := tool(t, "ogrinfo", "install gdal-bin (scripts/install-test-deps)")
	for _, f := range datasetFiles(t) {
		out, err := exec.Command(ogrinfo, "-ro", "-al", "-so", f).CombinedOutput()
		if err != nil {
			t.Errorf("ogrinfo %s: %v\n%s", f, err, out)
			continue
		}
		m := featureCountRE.FindStringSubmatch(string(out))
		if m == nil {
			t.Errorf("ogrinfo %s printed no feature count:\n%s", f, out)
			continue
		}
		n, _ := strconv.Atoi(m[1])
		if n == 0 {
			t.Errorf("ogrinfo %s: no features", f)
		}
		if strings.Contains(string(out), "Warning") || strings.Contains(string(out), "ERROR") {
			t.Errorf("ogrinfo %s complained:\n%s", f, out)
		}
	}
}

func TestCheckGeoJSONAcceptsEveryFile(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tool(t, filepath.Join(root, "web", "map", "node_modules", "@placemarkio", "check-geojson"),
		"run scripts/build-web to install the map's npm packages")
	node := tool(t, "node", "install Node.js")
	args := append([]string{filepath.Join(root, "web", "map", "tools", "check-geojson.mjs")}, datasetFiles(t)...)
	out, err := exec.Command(node, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("check-geojson: %v\n%s", err, out)
	}
}
