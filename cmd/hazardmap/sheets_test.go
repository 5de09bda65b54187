package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"hazardmap/geo"
	"hazardmap/geo/postgis/pgtest"
	"hazardmap/geo/sheet/sheettest"
)

// tool returns the path of a command the test needs; it skips the test
// when it is missing, unless CI is set (then a missing tool fails).
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing under CI (scripts/install-test-deps installs it)", name)
	}
	t.Skipf("%s is missing", name)
	return ""
}

// cli is the hazardmap command line on one store, seeded with the report's
// data.
type cli struct {
	t     *testing.T
	store []string // --data-dir DIR or --database-url URL
	dir   string   // scratch files
}

// forEachCLIStore runs f on a seeded embedded store and a seeded PostGIS.
func forEachCLIStore(t *testing.T, f func(t *testing.T, c *cli)) {
	t.Run("embedded", func(t *testing.T) {
		f(t, newCLI(t, "--data-dir", t.TempDir()))
	})
	t.Run("postgis", func(t *testing.T) {
		f(t, newCLI(t, "--database-url", pgtest.NewDatabase(t)))
	})
}

func newCLI(t *testing.T, store ...string) *cli {
	c := &cli{t: t, store: store, dir: t.TempDir()}
	c.with(func(s geo.Store) {
		if err := seed(context.Background(), s, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
	})
	return c
}

// with opens the store (the embedded one is locked while open), calls fn
// and closes it.
func (c *cli) with(fn func(s geo.Store)) {
	c.t.Helper()
	cfg := &config{dataDir: "var", logLevel: "error", logFormat: "text"}
	if c.store[0] == "--data-dir" {
		cfg.dataDir = c.store[1]
	} else {
		cfg.databaseURL = c.store[1]
	}
	s, _, err := openMigrated(context.Background(), cfg, &bytes.Buffer{})
	if err != nil {
		c.t.Fatal(err)
	}
	defer s.Close()
	fn(s)
}

func (c *cli) feature(coll, id string) *geo.Feature {
	c.t.Helper()
	var f *geo.Feature
	c.with(func(s geo.Store) {
		var err error
		if f, err = s.Feature(context.Background(), coll, id); err != nil {
			c.t.Fatal(err)
		}
	})
	return f
}

// run runs hazardmap with args after the store flags; it returns stdout
// and the error.
func (c *cli) run(args ...string) (string, error) {
	c.t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append(append(args[:1:1], c.store...), args[1:]...), func(string) string { return "" },
		strings.NewReader(""), &stdout, &stderr)
	if err != nil {
		c.t.Logf("hazardmap %v: %v\nstdout: %s\nstderr: %s", args, err, stdout.String(), stderr.String())
	}
	return stdout.String(), err
}

// export writes collection coll in format as role to a file and returns
// its path.
func (c *cli) export(coll, format, role string) string {
	c.t.Helper()
	path := filepath.Join(c.dir, coll+"-"+role+"."+format)
	if _, err := c.run("export", "--collection", coll, "--format", format, "--role", role, "--output", path); err != nil {
		c.t.Fatal(err)
	}
	return path
}

// editXLSX sets cells of the data sheet of an xlsx file: by row id and
// column key, as a planner would in Excel.
func editXLSX(t *testing.T, path, coll string, edits map[[2]string]any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, sheettest.Edit(t, b, coll, edits), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSheetRoundTrip is the planner's round trip on both stores: export
// xlsx, edit cells (excelize, as Excel would), someone else edits a point
// meanwhile, dry run, import; a bad cell is reported by row and column
// and nothing is written; --apply-good-rows writes the rest.
func TestSheetRoundTrip(t *testing.T) {
	forEachCLIStore(t, func(t *testing.T, c *cli) {
		const coll = geo.WaterloggingPoints
		path := c.export(coll, "xlsx", "planner")
		before := c.feature(coll, "wp-underpass-xinghua")
		editXLSX(t, path, coll, map[[2]string]any{
			{"wp-underpass-xinghua", "duty_unit"}:          "荥阳市城建局排水管理所",
			{"wp-underpass-xinghua", "duty_contact_name"}:  "测试值守人",
			{"wp-underpass-xinghua", "duty_contact_phone"}: "0371-86572555",
			{"wp-underpass-xinghua", "equipment"}:          "排水泵 | 2 | 台\n反光锥 | 20 | 个",
			{"wp-underpass-guangwu", "duty_unit"}:          "表格里的单位",
		})
		// Meanwhile a crew reports from 广武路: the point's version moves on.
		c.with(func(s geo.Store) {
			if _, _, err := s.AddObservation(geo.WithActor(context.Background(), geo.Actor{ID: "t1", Name: "一队", Role: geo.RoleCrew}),
				"wp-underpass-guangwu", 0, geo.Observation{DepthCM: 30, Status: geo.ObservationPonding}); err != nil {
				t.Fatal(err)
			}
		})
		guangwu := c.feature(coll, "wp-underpass-guangwu")

		out, err := c.run("import", path, "--collection", coll, "--dry-run")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"wp-underpass-xinghua: 更新 updated — duty_unit, duty_contact_name, duty_contact_phone, equipment",
			"wp-underpass-guangwu: 过期 stale", "已被他人修改（现为版本2）", "changed by someone else since the export (version 1, now 2)",
			"未变 unchanged 17", "dry run: nothing written (would write 1)"} {
			if !strings.Contains(out, want) {
				t.Errorf("dry run lacks %q:\n%s", want, out)
			}
		}
		if f := c.feature(coll, "wp-underpass-xinghua"); f.Version != before.Version {
			t.Fatalf("the dry run wrote: version %d", f.Version)
		}

		if out, err = c.run("import", path, "--collection", coll); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "已写入 written: 1") {
			t.Errorf("import:\n%s", out)
		}
		f := c.feature(coll, "wp-underpass-xinghua")
		if f.Version != before.Version+1 || f.Properties["duty_unit"] != "荥阳市城建局排水管理所" || f.Properties["duty_contact_phone"] != "0371-86572555" ||
			len(f.Properties["equipment"].([]any)) != 2 || f.Properties["name"] != before.Properties["name"] {
			t.Errorf("after import: v%d %v", f.Version, f.Properties)
		}
		if g := c.feature(coll, "wp-underpass-guangwu"); g.Version != guangwu.Version || g.Properties["duty_unit"] != nil || g.Properties["status"] != "ponding" {
			t.Errorf("the stale row was applied: v%d %v", g.Version, g.Properties)
		}
		c.with(func(s geo.Store) {
			es, _, err := s.Audit(context.Background(), geo.AuditQuery{Collection: coll, FeatureID: "wp-underpass-xinghua"})
			if err != nil || es[0].Action != geo.ActionImport || es[0].Actor.ID != geo.SystemID || es[0].Before.Version != before.Version {
				t.Errorf("audit of the import: %+v, %v", es[0].Change(), err)
			}
		})
		// The same file again: the written row is now stale (its version
		// is the exported one) but equal to what is stored: unchanged.
		if out, err = c.run("import", path, "--collection", coll); err != nil || !strings.Contains(out, "没有需要写入的行") {
			t.Errorf("re-import: %v\n%s", err, out)
		}

		// A bad cell: reported by row and column, in both languages, and
		// nothing is written, not even the good row beside it.
		path = c.export(coll, "xlsx", "planner")
		editXLSX(t, path, coll, map[[2]string]any{
			{"wp-road-suohe-heyin", "duty_contact_phone"}:   "37186572555",
			{"wp-road-zhengshang-guangwu", "duty_unit"}:     "城建局",
			{"wp-road-zhongyuan-taojia", "depth_cm"}:        "很深",
			{"wp-road-zhongyuan-taojia", "location_source"}: "",
		})
		v0 := c.feature(coll, "wp-road-zhengshang-guangwu").Version
		out, err = c.run("import", path, "--collection", coll)
		if err == nil {
			t.Fatal("an import with bad cells succeeded")
		}
		line := rowOf(t, path, coll, "wp-road-suohe-heyin")
		for _, want := range []string{
			"第" + line + "行 值守联系电话列：“37186572555”不是有效的电话号码",
			"row " + line + ", column 值守联系电话 (duty_contact_phone): \"37186572555\" is not a telephone number",
			"第" + rowOf(t, path, coll, "wp-road-zhongyuan-taojia") + "行 积水深度(厘米)列：“很深”不是数字",
			"定位来源列：不能为空", "错误 invalid 2",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("report lacks %q:\n%s", want, out)
			}
		}
		if v := c.feature(coll, "wp-road-zhengshang-guangwu").Version; v != v0 {
			t.Errorf("a good row was written beside bad ones (v%d → v%d)", v0, v)
		}
		if out, err = c.run("import", path, "--collection", coll, "--apply-good-rows"); err != nil || !strings.Contains(out, "已写入 written: 1") {
			t.Errorf("--apply-good-rows: %v\n%s", err, out)
		}
		if f := c.feature(coll, "wp-road-zhengshang-guangwu"); f.Version != v0+1 || f.Properties["duty_unit"] != "城建局" {
			t.Errorf("--apply-good-rows did not write the good row: v%d %v", f.Version, f.Properties["duty_unit"])
		}
	})
}

// rowOf returns the sheet row number of id in an xlsx file.
func rowOf(t *testing.T, path, coll, id string) string {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, _ := f.GetRows(coll)
	return strconv.Itoa(slices.IndexFunc(rows, func(r []string) bool { return len(r) > 0 && r[0] == id }) + 1)
}

// TestSheetGBKCSV imports a CSV as older Excel on Chinese Windows saves
// it: GBK, no byte-order mark, only the rows a planner kept. The edited
// Chinese text comes through intact.
func TestSheetGBKCSV(t *testing.T) {
	forEachCLIStore(t, func(t *testing.T, c *cli) {
		const coll = geo.Depots
		raw, err := os.ReadFile(c.export(coll, "csv", "planner"))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(raw), "\uFEFF"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		keeper := slices.IndexFunc(recs[0], func(h string) bool { return strings.HasSuffix(h, "(keeper_name)") })
		kept := [][]string{recs[0]}
		for _, r := range recs[1:] {
			switch r[0] {
			case "depot-suohe":
				r[keeper] = "张保管"
				kept = append(kept, r)
			case "depot-city":
				kept = append(kept, r)
			}
		}
		var b strings.Builder
		w := csv.NewWriter(&b)
		w.UseCRLF = true
		_ = w.WriteAll(kept)
		gbk, err := simplifiedchinese.GBK.NewEncoder().String(b.String())
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(c.dir, "gbk.csv")
		if err := os.WriteFile(path, []byte(gbk), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := c.run("import", path, "--collection", coll)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "(csv, GBK)") || !strings.Contains(out, "已写入 written: 1") || !strings.Contains(out, "未变 unchanged 1") {
			t.Errorf("GBK import:\n%s", out)
		}
		if f := c.feature(coll, "depot-suohe"); f.Properties["keeper_name"] != "张保管" || f.Properties["name"] != "索河街道应急仓库" {
			t.Errorf("depot-suohe after a GBK import: %v", f.Properties)
		}
	})
}

// TestExportGIS reads the KML and GPX exports of every collection with
// GDAL: every located feature is a placemark and a waypoint at its
// coordinates; what the public may not see is in neither.
func TestExportGIS(t *testing.T) {
	ogr := tool(t, "ogr2ogr")
	forEachCLIStore(t, func(t *testing.T, c *cli) {
		c.with(func(s geo.Store) {
			for coll, p := range map[string]geo.Patch{
				geo.WaterloggingPoints: {Properties: map[string]any{"duty_contact_name": "赵测试值守", "duty_contact_phone": "13912345678"}},
				geo.Depots:             {Properties: map[string]any{"keeper_name": "钱测试保管", "keeper_phone": "0371-86570000"}},
			} {
				id := map[string]string{geo.WaterloggingPoints: "wp-underpass-xinghua", geo.Depots: "depot-suohe"}[coll]
				if _, err := s.Patch(context.Background(), coll, id, 1, p); err != nil {
					t.Fatal(err)
				}
			}
		})
		secrets := [][]byte{[]byte("赵测试值守"), []byte("13912345678"), []byte("钱测试保管"), []byte("86570000")}
		for _, coll := range []string{geo.WaterloggingPoints, geo.RelocationSites, geo.Depots} {
			var fs []*geo.Feature
			c.with(func(s geo.Store) {
				var err error
				if fs, err = geo.AllFeatures(context.Background(), s, coll); err != nil {
					t.Fatal(err)
				}
			})
			for format, layer := range map[string]string{"kml": "", "gpx": "waypoints"} {
				path := c.export(coll, format, "public")
				args := []string{"-f", "GeoJSON", "/vsistdout/", path}
				if format == "kml" {
					sc, _ := geo.SchemaFor(coll)
					layer = sc.TitleZH
				}
				args = append(args, layer)
				got, err := exec.Command(ogr, args...).Output()
				if err != nil {
					t.Fatalf("ogr2ogr %v: %v", args, err)
				}
				var fc struct {
					Features []struct {
						Geometry *struct {
							Type        string          `json:"type"`
							Coordinates json.RawMessage `json:"coordinates"`
						} `json:"geometry"`
						Properties map[string]any `json:"properties"`
					} `json:"features"`
				}
				if err := json.Unmarshal(got, &fc); err != nil {
					t.Fatalf("%s %s: %v\n%s", coll, format, err, got)
				}
				byName := map[string][]float64{}
				for _, g := range fc.Features {
					name, _ := g.Properties["name"].(string)
					if name == "" {
						name, _ = g.Properties["Name"].(string)
					}
					var p []float64
					if g.Geometry != nil && g.Geometry.Type == "Point" {
						_ = json.Unmarshal(g.Geometry.Coordinates, &p)
					}
					byName[name] = p
				}
				located := 0
				for _, f := range fs {
					name := f.Properties["name"].(string)
					pt, ok := geo.RepresentativePoint(f.Geometry)
					if !ok {
						continue
					}
					located++
					p, found := byName[name]
					if !found || len(p) < 2 || math.Abs(p[0]-pt[0]) > 1e-7 || math.Abs(p[1]-pt[1]) > 1e-7 {
						t.Errorf("%s %s: %s at %v, want %v", coll, format, name, p, pt)
					}
				}
				if format == "gpx" && len(fc.Features) != located {
					t.Errorf("%s gpx: %d waypoints, %d located features", coll, len(fc.Features), located)
				}
				if format == "kml" && len(fc.Features) != len(fs) {
					t.Errorf("%s kml: %d placemarks, %d features", coll, len(fc.Features), len(fs))
				}
				raw, _ := os.ReadFile(path)
				crew, _ := os.ReadFile(c.export(coll, format, "crew"))
				for _, s := range secrets {
					if bytes.Contains(raw, s) {
						t.Errorf("%s %s as the public shows %s", coll, format, s)
					}
				}
				if coll == geo.WaterloggingPoints && !bytes.Contains(crew, []byte("13912345678")) || coll == geo.Depots && !bytes.Contains(crew, []byte("钱测试保管")) {
					t.Errorf("%s %s as a crew lacks the contact", coll, format)
				}
			}
		}
	})
}

// TestLibreOfficeReadsExport converts an xlsx export with LibreOffice
// (headless, from Debian) to CSV and imports that back: a real
// spreadsheet program reads every cell as written, so the round trip
// plans all unchanged. It also renders the sheet to PNG in test-output/.
func TestLibreOfficeReadsExport(t *testing.T) {
	soffice := tool(t, "soffice")
	c := newCLI(t, "--data-dir", t.TempDir())
	const coll = geo.Depots
	path := c.export(coll, "xlsx", "planner")
	profile := "-env:UserInstallation=file://" + filepath.Join(t.TempDir(), "lo")
	convert := func(filter, outDir string) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, soffice, profile, "--headless", "--convert-to", filter, "--outdir", outDir, path)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("soffice --convert-to %s: %v\n%s", filter, err, out)
		}
	}
	csvDir := t.TempDir()
	convert("csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false", csvDir) // UTF-8, quoted text, cell content as shown
	csvPath := filepath.Join(csvDir, strings.TrimSuffix(filepath.Base(path), ".xlsx")+".csv")
	out, err := c.run("import", csvPath, "--collection", coll, "--dry-run")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "未变 unchanged 22") || !strings.Contains(out, "错误 invalid 0") {
		t.Errorf("LibreOffice's CSV of the export does not plan as unchanged:\n%s", out)
	}

	// A picture of the sheet for people: xlsx → PDF → PNG.
	pdftoppm, err := exec.LookPath("pdftoppm")
	if err != nil {
		t.Log("pdftoppm missing: no PNG of the sheet")
		return
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	outDir := filepath.Join(root, "test-output")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	convert("pdf", c.dir)
	pdf := filepath.Join(c.dir, strings.TrimSuffix(filepath.Base(path), ".xlsx")+".pdf")
	if b, err := exec.Command(pdftoppm, "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", pdf, filepath.Join(outDir, "sheet-depots")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, b)
	}
	t.Logf("wrote %s", filepath.Join(outDir, "sheet-depots.png"))
}

// TestSheetThroughRunningServer exports and imports a sheet while serve
// holds the embedded store: both go through the control socket, with the
// features' versions, and the write is the server's (audited, on /events).
func TestSheetThroughRunningServer(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"HAZARDMAP_DATA_DIR": dir}
	base, stop := start(t, env)
	defer stop()
	path := filepath.Join(t.TempDir(), "depots.xlsx")
	runOK(t, env, "export", "--collection", geo.Depots, "--format", "xlsx", "--output", path)
	editXLSX(t, path, geo.Depots, map[[2]string]any{{"depot-kouzi", "keeper_name"}: "测试保管人"})
	out := runOK(t, env, "import", path, "--collection", geo.Depots)
	if !strings.Contains(out, "已写入 written: 1") || !strings.Contains(out, "through the running server") || !strings.Contains(out, "未变 unchanged 21") {
		t.Fatalf("import through the server:\n%s", out)
	}
	res, err := http.Get(base + "/collections/depots/items/depot-kouzi")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var f struct {
		Properties map[string]any `json:"properties"`
	}
	if err := json.NewDecoder(res.Body).Decode(&f); err != nil || f.Properties["name"] != "汜水镇口子村应急装备" {
		t.Fatalf("GET depot-kouzi: %v %v", err, f.Properties)
	}
	if _, shown := f.Properties["keeper_name"]; shown {
		t.Error("the public sees the keeper")
	}
}
