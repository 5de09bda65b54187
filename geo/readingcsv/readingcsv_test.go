package readingcsv

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"hazardmap/geo"
)

const sample = "站码,时间,水位,备注\n" +
	"gauge-yinmakeng,2024-08-18 08:00,149.50,\n" +
	"gauge-yinmakeng,2024/8/18 9:00:00,149.65,超汛限\n" +
	"\n" +
	"gauge-yinmakeng,2024-08-18T10:00:00+08:00,149.60 m,\n"

func TestParseEncodings(t *testing.T) {
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, encoding string
		data           []byte
	}{
		{"UTF-8", "UTF-8", []byte(sample)},
		{"UTF-8 with BOM (Excel CSV UTF-8)", "UTF-8", append([]byte("\xEF\xBB\xBF"), sample...)},
		{"GBK (Excel CSV on Chinese Windows)", "GB18030", gbk},
		{"CRLF", "UTF-8", []byte(strings.ReplaceAll(sample, "\n", "\r\n"))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Parse(bytes.NewReader(tt.data), Options{})
			if err != nil {
				t.Fatalf("Parse = %v", err)
			}
			if res.Encoding != tt.encoding || len(res.Readings) != 3 || fmt.Sprint(res.Lines) != "[2 3 5]" {
				t.Fatalf("Parse = %s, %d readings, lines %v", res.Encoding, len(res.Readings), res.Lines)
			}
			r := res.Readings[1]
			want := time.Date(2024, 8, 18, 1, 0, 0, 0, time.UTC)
			if r.GaugeID != "gauge-yinmakeng" || !r.At.Equal(want) || r.Level != 149.65 || r.Note != "超汛限" || r.Source != geo.ReadingImport {
				t.Errorf("row 3 = %+v", r)
			}
		})
	}
}

func TestParseReportsEveryBadRow(t *testing.T) {
	in := "gauge_id,at,level\n" +
		"g,2024-08-18 08:00,149.5\n" +
		",2024-08-18 08:10,149.5\n" +
		"g,yesterday,149.5\n" +
		"g,2024-08-18 08:30,\n" +
		"g,2024-08-18 08:40,NaN\n"
	_, err := Parse(strings.NewReader(in), Options{})
	e := geo.AsError(err)
	if e == nil || e.Kind != geo.Invalid {
		t.Fatalf("Parse = %v, want Invalid", err)
	}
	var fields []string
	for _, f := range e.Fields {
		fields = append(fields, f.Field)
	}
	if got := fmt.Sprint(fields); got != "[lines[3].gauge_id lines[4].at lines[5].level lines[6].level]" {
		t.Fatalf("fields = %s", got)
	}
}

func TestParseHeaderAndFile(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		opt      Options
		field    string
	}{
		{"no level column", "gauge_id,at\ng,2024-08-18 08:00\n", Options{}, "header"},
		{"no gauge column and no gauge", "at,level\n2024-08-18 08:00,1\n", Options{}, "header"},
		{"empty", "", Options{}, "header"},
		{"not text", "at,level\n\xff\xfe\x00\x01", Options{Gauge: "g"}, "file"},
		{"broken quote", "at,level\n\"2024-08-18 08:00,1\n", Options{Gauge: "g"}, "lines[2].row"},
		{"other gauge", "gauge_id,at,level\nh,2024-08-18 08:00,1\n", Options{Gauge: "g"}, "lines[2].gauge_id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.in), tt.opt)
			if e := geo.AsError(err); e == nil || e.Kind != geo.Invalid || e.Fields[0].Field != tt.field {
				t.Fatalf("Parse = %v, want Invalid naming %s", err, tt.field)
			}
		})
	}
	res, err := Parse(strings.NewReader("at,level\n2024-08-18 08:00,1\n"), Options{Gauge: "g", Source: geo.ReadingManual})
	if err != nil || res.Readings[0].GaugeID != "g" || res.Readings[0].Source != geo.ReadingManual {
		t.Fatalf("Parse(one gauge) = %+v, %v", res, err)
	}
}

func TestLocate(t *testing.T) {
	res := Result{Lines: []int{2, 3, 7}}
	err := res.Locate(&geo.Error{Kind: geo.Conflict, Fields: []geo.FieldError{{Field: "readings[2].at"}, {Field: "readings"}}})
	if e := geo.AsError(err); e.Kind != geo.Conflict || e.Fields[0].Field != "lines[7].at" || e.Fields[1].Field != "readings" {
		t.Fatalf("Locate = %+v", e)
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2024-08-18T09:00:00+08:00":    time.Date(2024, 8, 18, 1, 0, 0, 0, time.UTC),
		"2024-08-18T01:00:00Z":         time.Date(2024, 8, 18, 1, 0, 0, 0, time.UTC),
		"2024-08-18 09:00":             time.Date(2024, 8, 18, 1, 0, 0, 0, time.UTC),
		"2024/8/18 9:00":               time.Date(2024, 8, 18, 1, 0, 0, 0, time.UTC),
		"2024-08-18 09:00:01.5":        time.Date(2024, 8, 18, 1, 0, 1, 5e8, time.UTC),
		"2024-08-18T09:00:00.25+08:00": time.Date(2024, 8, 18, 1, 0, 0, 25e7, time.UTC),
	} {
		got, err := ParseTime(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

// FuzzParse: any bytes give readings or an Invalid *geo.Error, never a
// panic; every reading has a time, a finite level and a line.
func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add(append([]byte("\xEF\xBB\xBF"), sample...))
	gbk, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(sample))
	f.Add(gbk)
	f.Add([]byte("at,level\n\"x"))
	f.Add([]byte("gauge_id,at,level,note\ng,2024-08-18 08:00,1e308,\"a,b\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Parse(bytes.NewReader(data), Options{})
		if err != nil {
			if e := geo.AsError(err); e == nil || e.Kind != geo.Invalid || len(e.Fields) == 0 {
				t.Fatalf("Parse error %v is not Invalid with fields", err)
			}
			return
		}
		if len(res.Readings) != len(res.Lines) {
			t.Fatalf("%d readings, %d lines", len(res.Readings), len(res.Lines))
		}
		for i, r := range res.Readings {
			if r.At.IsZero() || r.Level != r.Level || r.GaugeID == "" || res.Lines[i] < 2 {
				t.Fatalf("reading %d = %+v at line %d", i, r, res.Lines[i])
			}
		}
	})
}

// BenchmarkParse parses a day of one reading a minute (1 440 rows).
func BenchmarkParse(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("\xEF\xBB\xBFgauge_id,at,level,note\n")
	t0 := time.Date(2024, 8, 18, 0, 0, 0, 0, time.UTC)
	for i := range 1440 {
		fmt.Fprintf(&buf, "gauge-yinmakeng,%s,%.2f,\n", t0.Add(time.Duration(i)*time.Minute).Format("2006-01-02 15:04"), 149+float64(i%100)/100)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(data), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
