package sheet

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"hazardmap/geo"
)

func schema(t testing.TB, c string) *geo.Schema {
	t.Helper()
	sc, err := geo.SchemaFor(c)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// points returns stored waterlogging points: prepared (as a store keeps
// them), at a version, with every kind of value the sheet must carry.
func points(t testing.TB) []*geo.Feature {
	t.Helper()
	sc := schema(t, geo.WaterloggingPoints)
	raw := []*geo.Feature{
		{ID: "wp-a", Version: 3, Geometry: orb.Point{113.40458, 34.798322}, Properties: map[string]any{
			"name": "陇海路与京城路铁路桥涵", "name_en": "Jingcheng Rd underpass", "township": nil,
			"location_precision_m": 590.0, "location_source": "bus line | chord, \"quoted\"\nsecond line",
			"findings": []any{
				map[string]any{"finding": "积水严重；难以通行", "measure": "清淤 | 疏通\\管网", "result": "完成", "ref": "二（五）2"},
				map[string]any{"finding": "=SUM(A1)", "measure": nil, "result": nil, "ref": nil},
			},
			"note": "+86 note starting with a plus", "kind": "railway_underpass", "duty_unit": "市城建局",
			"duty_contact_name": "测试值守", "duty_contact_phone": "0371-86572555",
			"equipment": []any{map[string]any{"item": "排水泵", "quantity": 2.0, "unit": "台", "note": nil}},
			"measures":  []any{"排水泵", "设置警示标识", "line\nbreak"},
			"status":    "closed", "depth_cm": 45.5, "status_updated_at": "2025-07-20T08:00:00Z",
		}},
		{ID: "wp-b", Version: 1, Geometry: nil, Properties: map[string]any{
			"name": "未具名道路积水点 1", "location_source": "none", "kind": "road_spot", "location_precision_m": nil,
			"findings": []any{}, "measures": []any{}, "equipment": []any{}, "duty_unit": nil, "note": "",
		}},
		{ID: "wp-c", Version: 2, Geometry: orb.LineString{{113.35, 34.78}, {113.36, 34.785}}, Properties: map[string]any{
			"name": "郑上路", "location_source": "x", "kind": "road_spot", "location_precision_m": 25.0,
		}},
	}
	out := make([]*geo.Feature, len(raw))
	for i, f := range raw {
		p, err := sc.Prepare(f)
		if err != nil {
			t.Fatalf("fixture %s: %v", f.ID, err)
		}
		p.Version = f.Version
		out[i] = p
	}
	return out
}

func byID(fs []*geo.Feature) map[string]*geo.Feature {
	m := map[string]*geo.Feature{}
	for _, f := range fs {
		m[f.ID] = f
	}
	return m
}

// encode writes fs with enc and returns the bytes.
func encode(t testing.TB, newEnc func(w *bytes.Buffer) (Encoder, error), fs []*geo.Feature) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc, err := newEnc(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if err := enc.Encode(f); err != nil {
			t.Fatalf("Encode(%s) = %v", f.ID, err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	return buf.Bytes()
}

func csvOf(t testing.TB, c string, role geo.Role, fs []*geo.Feature) []byte {
	return encode(t, func(w *bytes.Buffer) (Encoder, error) { return NewCSVEncoder(w, schema(t, c), role), nil }, fs)
}

func xlsxOf(t testing.TB, c string, role geo.Role, fs []*geo.Feature) []byte {
	return encode(t, func(w *bytes.Buffer) (Encoder, error) { return NewXLSXEncoder(w, schema(t, c), role) }, fs)
}

// TestRoundTripUnchanged exports and reads back both formats: every row
// plans as unchanged, whatever the values hold (bars, backslashes, line
// breaks, quotes, formula-like text, nulls, lines).
func TestRoundTripUnchanged(t *testing.T) {
	fs := points(t)
	sc := schema(t, geo.WaterloggingPoints)
	for name, read := range map[string]func() (*Table, error){
		"csv": func() (*Table, error) {
			return ReadCSV(bytes.NewReader(csvOf(t, sc.ID, geo.RolePlanner, fs)), sc, geo.RolePlanner)
		},
		"xlsx": func() (*Table, error) {
			return ReadXLSX(bytes.NewReader(xlsxOf(t, sc.ID, geo.RolePlanner, fs)), sc, geo.RolePlanner)
		},
	} {
		t.Run(name, func(t *testing.T) {
			tab, err := read()
			if err != nil {
				t.Fatal(err)
			}
			if len(tab.Columns) != len(Columns(sc, geo.RolePlanner)) || len(tab.Rows) != len(fs) {
				t.Fatalf("read %d columns, %d rows", len(tab.Columns), len(tab.Rows))
			}
			p := MakePlan(tab, byID(fs))
			for _, r := range p.Rows {
				if r.Action != Unchanged {
					t.Errorf("row %d (%s): %s %v %v", r.Line, r.ID, r.Action, r.Changed, r.Problems)
				}
			}
			if b, ok := p.Batch(false); !ok || b.Len() != 0 {
				t.Errorf("Batch of an unchanged sheet = %+v, %v", b, ok)
			}
		})
	}
}

func TestCSVFormat(t *testing.T) {
	out := string(csvOf(t, geo.WaterloggingPoints, geo.RolePlanner, points(t)))
	if !strings.HasPrefix(out, bom+"编号 (id),版本 (version),名称 (name),英文名 (name_en),") {
		t.Errorf("CSV starts %q", out[:80])
	}
	for _, want := range []string{"经度 WGS-84 (lon),纬度 WGS-84 (lat),几何 WKT WGS-84 (wkt)\r\n", "wp-a,3,", ",113.40458,34.798322,\r\n",
		"\n=SUM(A1)\"", ",'+86 note", ",排水泵 | 2 | 台,", `清淤 \| 疏通\\管网`, "LINESTRING(113.35 34.78,113.36 34.785)"} {
		if !strings.Contains(out, want) {
			t.Errorf("CSV lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "\r\n") < 4 {
		t.Error("not CRLF")
	}
}

// TestRoleFilter checks that no format carries what a role may not see:
// contacts below crew, household detail below planner.
func TestRoleFilter(t *testing.T) {
	fs := points(t)
	rs := &geo.Feature{ID: "rs-1", Version: 1, Geometry: orb.Point{113.2, 34.8}, Properties: map[string]any{
		"name": "老君堂村", "town": "汜水镇", "village": "老君堂村", "status": "in_progress", "location_source": "x",
		"households": []any{map[string]any{"name": "王测试户主", "phone": "13800138000", "members": 4.0}},
	}}
	for _, role := range []geo.Role{geo.RolePublic, geo.RoleCrew, geo.RolePlanner} {
		for name, out := range map[string][]byte{
			"csv wp": csvOf(t, geo.WaterloggingPoints, role, fs), "csv rs": csvOf(t, geo.RelocationSites, role, []*geo.Feature{rs}),
			"xlsx wp": xlsxText(t, xlsxOf(t, geo.WaterloggingPoints, role, fs)), "xlsx rs": xlsxText(t, xlsxOf(t, geo.RelocationSites, role, []*geo.Feature{rs})),
		} {
			contacts := bytes.Contains(out, []byte("测试值守")) || bytes.Contains(out, []byte("86572555")) || bytes.Contains(out, []byte("duty_contact"))
			households := bytes.Contains(out, []byte("王测试户主")) || bytes.Contains(out, []byte("(households)"))
			if contacts != role.AtLeast(geo.RoleCrew) && strings.HasSuffix(name, "wp") {
				t.Errorf("%s as %s: contacts shown %v", name, role, contacts)
			}
			if households != role.AtLeast(geo.RolePlanner) && strings.HasSuffix(name, "rs") {
				t.Errorf("%s as %s: households shown %v", name, role, households)
			}
		}
	}
	// A sheet may not bring back a column its role may not see.
	out := csvOf(t, geo.WaterloggingPoints, geo.RolePlanner, fs)
	_, err := ReadCSV(bytes.NewReader(out), schema(t, geo.WaterloggingPoints), geo.RolePublic)
	var fe *FileError
	if !errors.As(err, &fe) || !strings.Contains(fe.Problems[0].String(), "不是waterlogging_points的列") {
		t.Errorf("public reading a planner's sheet = %v", err)
	}
}

// xlsxText returns every cell text of every sheet of a workbook.
func xlsxText(t testing.TB, b []byte) []byte {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	for _, s := range f.GetSheetList() {
		rows, err := f.GetRows(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			out.WriteString(strings.Join(r, "\t") + "\n")
		}
	}
	return out.Bytes()
}

// TestXLSXCells reads an export back with excelize as a spreadsheet
// user sees it: typed cells, a text phone column, the explanation sheet.
func TestXLSXCells(t *testing.T) {
	b := xlsxOf(t, geo.WaterloggingPoints, geo.RoleCrew, points(t))
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !slices.Equal(got, []string{geo.WaterloggingPoints, explainSheet}) {
		t.Fatalf("sheets %v", got)
	}
	if i := f.GetActiveSheetIndex(); i != 0 {
		t.Errorf("active sheet %d, want the data sheet (0)", i)
	}
	if panes, err := f.GetPanes(geo.WaterloggingPoints); err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes %+v, %v: want the header row frozen", panes, err)
	}
	cols := Columns(schema(t, geo.WaterloggingPoints), geo.RoleCrew)
	at := func(key string, row int) string {
		i := slices.IndexFunc(cols, func(c Column) bool { return c.Key == key })
		name, _ := excelize.CoordinatesToCellName(i+1, row)
		return name
	}
	for key, number := range map[string]bool{"version": true, "depth_cm": true, "lon": true, "name": false, "duty_contact_phone": false} {
		typ, err := f.GetCellType(geo.WaterloggingPoints, at(key, 2))
		text := typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString
		if err != nil || text == number {
			t.Errorf("%s cell type %v, %v; want a number %v", key, typ, err, number)
		}
	}
	if v, _ := f.GetCellValue(geo.WaterloggingPoints, at("equipment", 2)); v != "排水泵 | 2 | 台" {
		t.Errorf("equipment cell %q", v)
	}
	style, _ := f.GetCellStyle(geo.WaterloggingPoints, at("duty_contact_phone", 3))
	if st, err := f.GetStyle(style); err != nil || st.NumFmt != 49 {
		t.Errorf("an empty phone cell is not text-formatted (style %d: %+v, %v): Excel would drop a typed leading 0", style, st, err)
	}
	if v, _ := f.GetCellValue(explainSheet, "A1"); !strings.Contains(v, "城区积水点") {
		t.Errorf("说明!A1 = %q", v)
	}
}

func TestReadCSVEncodings(t *testing.T) {
	sc := schema(t, geo.WaterloggingPoints)
	text := "编号 (id),版本 (version),名称 (name),责任单位 (duty_unit),类型 (kind),定位来源 (location_source)\r\n" +
		",,新积水点,荥阳市城建局,road_spot,城建局现场定位\r\n"
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(strings.ReplaceAll(text, ",", "\t"))
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		in, enc string
	}{
		"utf-8":      {text, "UTF-8"},
		"utf-8 bom":  {bom + text, "UTF-8"},
		"gbk":        {gbk, "GBK"},
		"utf-16 tsv": {utf16, "UTF-16"},
		"semicolons": {strings.ReplaceAll(text, ",", ";"), "UTF-8"},
	} {
		tab, err := ReadCSV(strings.NewReader(tc.in), sc, geo.RolePlanner)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if tab.Encoding != tc.enc || len(tab.Rows) != 1 {
			t.Errorf("%s: encoding %s, %d rows", name, tab.Encoding, len(tab.Rows))
			continue
		}
		p := MakePlan(tab, nil)
		if r := p.Rows[0]; r.Action != Create || r.Feature.Properties["duty_unit"] != "荥阳市城建局" || r.Feature.Properties["name"] != "新积水点" {
			t.Errorf("%s: %+v", name, r)
		}
	}
	for name, in := range map[string]string{
		"latin-1 garbage": "\xff\xfe\xfd\x80\x81,\x00",
		"bad bom utf-8":   bom + "a,\xff\xfe",
		"empty":           "",
	} {
		_, err := ReadCSV(strings.NewReader(in), sc, geo.RolePlanner)
		var fe *FileError
		if !errors.As(err, &fe) {
			t.Errorf("%s: err %v, want a FileError", name, err)
		}
	}
}

func TestFileErrors(t *testing.T) {
	sc := schema(t, geo.Depots)
	head := "编号 (id),版本 (version),名称 (name)\n"
	for name, tc := range map[string]struct{ in, want string }{
		"unknown column":  {"编号 (id),版本 (version),仓库电话\n", "第1行 仓库电话列：不是depots的列"},
		"no version":      {"编号 (id),名称 (name)\n", "缺少版本 (version)列"},
		"repeated column": {"id,version,name,名称\n", "第1行 名称列：与第C列重复"},
		"text, no header": {head + "d-1,1,x,,oops\n", "第2行 E列：有内容但没有表头"},
		"too many rows":   {head + strings.Repeat("d,1,x\n", MaxRows), "超过10001行的上限"},
		"broken quoting":  {head + "d,1,\"x\n", "不是有效的CSV"},
		"private column":  {"id,version,keeper_phone\n", "不是depots的列"},
		"header only":     {"", "文件是空的"},
	} {
		role := geo.RolePlanner
		if name == "private column" {
			role = geo.RolePublic
		}
		_, err := ReadCSV(strings.NewReader(tc.in), sc, role)
		var fe *FileError
		if !errors.As(err, &fe) || !strings.Contains(fe.Error(), tc.want) {
			t.Errorf("%s: %v, want a FileError with %q", name, err, tc.want)
		}
	}
}

func TestProblemText(t *testing.T) {
	p := Problem{Row: 12, Column: "责任单位", Key: "duty_unit", ZH: "不能为空", EN: "must not be null"}
	if p.String() != "第12行 责任单位列：不能为空" || p.English() != "row 12, column 责任单位 (duty_unit): must not be null" {
		t.Errorf("%q / %q", p.String(), p.English())
	}
	if p := (Problem{ZH: "文件是空的", EN: "empty"}); p.String() != "文件是空的" || p.English() != "empty" {
		t.Errorf("%q / %q", p.String(), p.English())
	}
}

func TestColumnNames(t *testing.T) {
	for i, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 27: "AB", 701: "ZZ", 702: "AAA"} {
		if got := columnName(i); got != want {
			t.Errorf("columnName(%d) = %s, want %s", i, got, want)
		}
	}
	cols := Columns(schema(t, geo.Depots), geo.RoleCrew)
	for h, key := range map[string]string{"名称 (name)": "name", "名称（name）": "name", "name": "name", "名称": "name",
		" 保管人电话 (keeper_phone) ": "keeper_phone", "经度 WGS-84": "lon", "lat": "lat"} {
		if c, ok := match(cols, h); !ok || c.Key != key {
			t.Errorf("match(%q) = %v %v, want %s", h, c.Key, ok, key)
		}
	}
	if _, ok := match(cols, "wkt"); ok {
		t.Error("depots (points only) have a wkt column")
	}
}

// TestXLSXDeterministic encodes the same features several times: the same
// bytes every time (the API sends them under a strong ETag).
func TestXLSXDeterministic(t *testing.T) {
	first := xlsxOf(t, geo.WaterloggingPoints, geo.RolePlanner, points(t))
	for range 5 {
		if again := xlsxOf(t, geo.WaterloggingPoints, geo.RolePlanner, points(t)); !bytes.Equal(again, first) {
			t.Fatal("two encodings of the same features differ")
		}
	}
}
