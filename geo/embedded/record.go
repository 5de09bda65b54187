package embedded

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	bolt "go.etcd.io/bbolt"

	"hazardmap/geo"
	"hazardmap/geo/geojson"
)

// This file is the on-disk form of a feature. Each feature has two
// records, written in the same transaction:
//
//   - in the bucket named after its collection, under its id, the feature
//     record: version, updated time, geometry (WKB) and the feature
//     encoded as GeoJSON for each view of the data (geojson.EncodeViews:
//     everything, and for each lesser view its own bytes where they
//     differ). A page of items is these bytes joined: nothing is decoded
//     or encoded to serve it, and they are read from bbolt's memory map,
//     so they stay out of the Go heap;
//   - in indexBucket, under collection, 0, id, the index record: version,
//     updated time, the geometry's bounds (and the geometry itself when it
//     is not a point, for the exact bbox test) and the values of the
//     schema's Filterable properties. Open reads only these, to build the
//     in-memory index (index.go); that keeps reopening fast and the
//     memory small.
//
// formatBucket holds the fingerprint of the format (recordFingerprint):
// when it differs from the stored one (a store written before this
// format, or by an encoder that writes other bytes), Open rebuilds both
// records of every feature from the feature records.

// Buckets of the feature format.
var (
	indexBucket  = []byte("feature_index")  // collection, 0, id → index record
	formatBucket = []byte("feature_format") // "fingerprint" → recordFingerprint()
	fingerprint  = []byte("fingerprint")
)

// recordFormat is the first byte of a feature record. Records written
// before it are JSON objects, which start with '{'.
const recordFormat byte = 1

// indexKey is the key of the index record of feature id of collection c.
func indexKey(c, id string) []byte {
	k := make([]byte, 0, len(c)+1+len(id))
	k = append(k, c...)
	k = append(k, 0)
	return append(k, id...)
}

// encoded is a prepared feature in its stored forms.
type encoded struct {
	record []byte // the feature record
	index  []byte // the index record
	item   *item  // what the in-memory index keeps of it
}

// encodeFeature returns the records of f, which sc.Prepare returned and
// which carries its version and updated time.
func (s *Store) encodeFeature(sc *geo.Schema, f *geo.Feature) (encoded, error) {
	var geom []byte
	if f.Geometry != nil {
		b, err := wkb.Marshal(f.Geometry)
		if err != nil {
			return encoded{}, fmt.Errorf("encode geometry of %q: %w", f.ID, err)
		}
		geom = b
	}
	docs, err := geojson.EncodeViews(sc, f)
	if err != nil {
		return encoded{}, err
	}
	updated := f.Updated.UnixMicro()
	size := 1 + 2*binary.MaxVarintLen64 + (len(docs)+2)*binary.MaxVarintLen32 + len(geom)
	for _, d := range docs {
		size += len(d)
	}
	rec := make([]byte, 0, size)
	rec = append(rec, recordFormat)
	rec = binary.AppendUvarint(rec, uint64(f.Version))
	rec = binary.AppendVarint(rec, updated)
	rec = binary.AppendUvarint(rec, uint64(len(geom)))
	rec = append(rec, geom...)
	// The full document first, then the count of the lesser views and
	// each one's bytes (empty where it is the full one).
	full := docs[len(docs)-1]
	rec = binary.AppendUvarint(rec, uint64(len(full)))
	rec = append(rec, full...)
	rec = binary.AppendUvarint(rec, uint64(len(docs)-1))
	for _, d := range docs[:len(docs)-1] {
		rec = binary.AppendUvarint(rec, uint64(len(d)))
		rec = append(rec, d...)
	}

	e := &item{id: f.ID, version: f.Version, updated: updated}
	idx := binary.AppendUvarint(nil, uint64(f.Version))
	idx = binary.AppendVarint(idx, updated)
	switch g := f.Geometry.(type) {
	case nil:
		idx = append(idx, geomNone)
	case orb.Point:
		idx = append(idx, geomPoint)
		idx = binary.LittleEndian.AppendUint64(idx, math.Float64bits(g[0]))
		idx = binary.LittleEndian.AppendUint64(idx, math.Float64bits(g[1]))
		e.located, e.bound = true, g.Bound()
	default:
		idx = append(idx, geomShape)
		idx = binary.AppendUvarint(idx, uint64(len(geom)))
		idx = append(idx, geom...)
		e.located, e.bound, e.shape = true, g.Bound(), g
	}
	names := sc.Filterable()
	start := len(idx)
	idx = binary.AppendUvarint(idx, uint64(len(names)))
	values := make([]any, len(names))
	for i, name := range names {
		v := f.Properties[name]
		if idx, err = appendValue(idx, v); err != nil {
			return encoded{}, fmt.Errorf("encode %s of %q: %w", name, f.ID, err)
		}
		values[i] = s.intern(v)
	}
	e.filters = s.internValues(idx[start:], values)
	return encoded{record: rec, index: idx, item: e}, nil
}

// Kinds of geometry in an index record.
const (
	geomNone  byte = 0 // null geometry
	geomPoint byte = 1 // two float64: lon, lat
	geomShape byte = 2 // WKB of any other geometry
)

// Tags of the values of Filterable properties in an index record.
const (
	valueNull   byte = 0
	valueString byte = 1 // uvarint length, bytes
	valueNumber byte = 2 // float64 bits
	valueTrue   byte = 3
	valueFalse  byte = 4
	valueList   byte = 5 // uvarint count, then each string as valueString's payload
)

// appendValue appends the tagged form of v, a canonical JSON value of a
// Filterable property.
func appendValue(b []byte, v any) ([]byte, error) {
	switch t := v.(type) {
	case nil:
		return append(b, valueNull), nil
	case string:
		b = append(b, valueString)
		b = binary.AppendUvarint(b, uint64(len(t)))
		return append(b, t...), nil
	case float64:
		b = append(b, valueNumber)
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(t)), nil
	case bool:
		if t {
			return append(b, valueTrue), nil
		}
		return append(b, valueFalse), nil
	case []any:
		b = append(b, valueList)
		b = binary.AppendUvarint(b, uint64(len(t)))
		for _, x := range t {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("a filterable list holds a %T", x)
			}
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
		return b, nil
	}
	return nil, fmt.Errorf("a filterable property holds a %T", v)
}

// reader reads the fields of a record, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errors.New("truncated record")
	}
	r.b = nil
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) float() float64 {
	if len(r.b) < 8 {
		r.fail()
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

// bytes returns the next length-prefixed field, aliasing the record.
func (r *reader) bytes() []byte {
	n := r.uvarint()
	if uint64(len(r.b)) < n {
		r.fail()
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// record is a feature record, read. Its slices alias the bytes it was
// read from (bbolt's memory map: valid only in the transaction).
type record struct {
	version int64
	updated int64 // microseconds since 1970, UTC
	geom    []byte
	doc     []byte // everything
	// lesser holds the lesser views (geo.Views but the last), as stored:
	// their count, then each one's length and bytes (none where it is the
	// same as doc). It is read on demand (view), so reading a record
	// allocates nothing.
	lesser []byte
}

// readRecord reads a feature record.
func readRecord(raw []byte) (record, error) {
	if len(raw) == 0 || raw[0] != recordFormat {
		return record{}, errors.New("not a feature record of this format")
	}
	r := reader{b: raw[1:]}
	rec := record{version: int64(r.uvarint()), updated: r.varint()}
	rec.geom, rec.doc, rec.lesser = r.bytes(), r.bytes(), r.b
	return rec, r.err
}

// recordCursor reads the feature records of one collection in a read
// transaction, reusing one bbolt cursor and one key buffer (a Get per
// feature would allocate both for each of a page's thousand features).
type recordCursor struct {
	cur *bolt.Cursor
	key []byte
}

func newRecordCursor(tx *bolt.Tx, c string) *recordCursor {
	return &recordCursor{cur: tx.Bucket([]byte(c)).Cursor()}
}

// get returns the record of feature id, aliasing the memory map.
func (rc *recordCursor) get(id string) (record, error) {
	rc.key = append(rc.key[:0], id...)
	k, v := rc.cur.Seek(rc.key)
	if !bytes.Equal(k, rc.key) {
		return record{}, errors.New("no feature record")
	}
	return readRecord(v)
}

// view returns the GeoJSON of the record as role may see it.
func (rec record) view(role geo.Role) []byte {
	r := reader{b: rec.lesser}
	i, n := uint64(geo.ViewIndex(role)), r.uvarint()
	if i >= n {
		return rec.doc // the full view
	}
	for range i {
		r.bytes()
	}
	if b := r.bytes(); len(b) > 0 && r.err == nil {
		return b
	}
	return rec.doc
}

// propertiesMember is what precedes the properties object in the GeoJSON
// that geojson.AppendFeature writes. Neither the id (letters, digits, '-',
// '_' and '.') nor the geometry can hold it, so its first occurrence is
// the member.
var propertiesMember = []byte(`,"properties":`)

// feature decodes the record of feature id.
func (rec record) feature(id string) (*geo.Feature, error) {
	f := &geo.Feature{ID: id, Version: rec.version, Updated: time.UnixMicro(rec.updated).UTC()}
	if len(rec.geom) > 0 {
		g, err := wkb.Unmarshal(rec.geom)
		if err != nil {
			return nil, fmt.Errorf("decode geometry: %w", err)
		}
		f.Geometry = g
	}
	i := bytes.Index(rec.doc, propertiesMember)
	if i < 0 || len(rec.doc) < i+len(propertiesMember)+1 {
		return nil, errors.New("no properties in the stored GeoJSON")
	}
	props := rec.doc[i+len(propertiesMember) : len(rec.doc)-1]
	if err := json.Unmarshal(props, &f.Properties); err != nil {
		return nil, fmt.Errorf("decode properties: %w", err)
	}
	if f.Properties == nil {
		f.Properties = map[string]any{}
	}
	return f, nil
}

// readIndex reads the index record of feature id into an entry.
func (s *Store) readIndex(id string, raw []byte) (*item, error) {
	r := reader{b: raw}
	e := &item{id: id, version: int64(r.uvarint()), updated: r.varint()}
	switch r.byte() {
	case geomNone:
	case geomPoint:
		p := orb.Point{r.float(), r.float()}
		e.located, e.bound = true, p.Bound()
	case geomShape:
		raw := r.bytes()
		if r.err == nil {
			g, err := wkb.Unmarshal(raw)
			if err != nil {
				return nil, fmt.Errorf("decode geometry: %w", err)
			}
			e.located, e.bound, e.shape = true, g.Bound(), g
		}
	default:
		return nil, errors.New("unknown geometry kind")
	}
	start := r.b
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
	}
	values := make([]any, 0, n)
	for range n {
		var v any
		switch r.byte() {
		case valueNull:
		case valueString:
			v = s.internBytes(r.bytes())
		case valueNumber:
			v = r.float()
		case valueTrue:
			v = true
		case valueFalse:
			v = false
		case valueList:
			k := r.uvarint()
			if k > uint64(len(r.b)) {
				r.fail()
				break
			}
			list := make([]any, k)
			for i := range list {
				list[i] = s.internBytes(r.bytes())
			}
			v = list
		default:
			r.fail()
		}
		values = append(values, v)
	}
	if r.err == nil {
		e.filters = s.internValues(start[:len(start)-len(r.b)], values)
	}
	return e, r.err
}

// maxValueSets bounds the distinct sets of filterable values that
// internValues shares.
const maxValueSets = 1 << 16

// internValues returns one shared copy of the filterable values of a
// feature, keyed by their encoding: a few statuses, kinds and duty units
// make few distinct sets over a large layer, so most features need no
// slice of their own. Past maxValueSets distinct sets (values unique per
// feature) each keeps its own. The caller holds mu for writing.
func (s *Store) internValues(enc []byte, values []any) []any {
	if v, ok := s.valueSets[string(enc)]; ok {
		return v
	}
	if len(s.valueSets) < maxValueSets {
		s.valueSets[string(enc)] = values
	}
	return values
}

// intern returns v, sharing one copy of each string value (and of its
// interface box) across the features: the filterable values repeat (a
// status, a township), and a copy per feature would cost the memory of a
// large layer many times over. The caller holds mu for writing.
func (s *Store) intern(v any) any {
	str, ok := v.(string)
	if !ok {
		if list, ok := v.([]any); ok {
			out := make([]any, len(list))
			for i, x := range list {
				out[i] = s.intern(x)
			}
			return out
		}
		return v
	}
	if x, ok := s.strings[str]; ok {
		return x
	}
	var x any = str
	s.strings[str] = x
	return x
}

// internBytes is intern for a string given as bytes (which may alias a
// memory map: the map key and the value are copies).
func (s *Store) internBytes(b []byte) any {
	if x, ok := s.strings[string(b)]; ok { // no allocation for the lookup
		return x
	}
	return s.intern(string(b))
}

// recordFingerprint identifies the format of both records: the format
// byte, every schema's Filterable properties in order, and what the
// GeoJSON of the views is (geojson.Fingerprint). A change to any of them
// changes it, and Open rebuilds.
func recordFingerprint() []byte {
	h := fnv.New64a()
	fmt.Fprintf(h, "format %d %s\n", recordFormat, geojson.Fingerprint())
	for _, sc := range geo.Schemas() {
		fmt.Fprintf(h, "%s %q\n", sc.ID, sc.Filterable())
	}
	return binary.BigEndian.AppendUint64(nil, h.Sum64())
}

// rebuild writes both records of every feature of collection c afresh
// from its feature records (of this format or the JSON one before it),
// with the index bucket emptied beforehand by the caller.
func (s *Store) rebuild(tx *bolt.Tx, sc *geo.Schema) error {
	b := tx.Bucket([]byte(sc.ID))
	ix := tx.Bucket(indexBucket)
	type put struct {
		id  []byte
		enc encoded
	}
	var puts []put
	err := b.ForEach(func(k, v []byte) error {
		f, err := decodeAny(string(k), v)
		if err != nil {
			return fmt.Errorf("embedded: read %s/%s: %w", sc.ID, k, err)
		}
		enc, err := s.encodeFeature(sc, f)
		if err != nil {
			return fmt.Errorf("embedded: encode %s/%s: %w", sc.ID, k, err)
		}
		puts = append(puts, put{slices.Clone(k), enc})
		return nil
	})
	if err != nil {
		return err
	}
	// Written after the walk: bbolt's ForEach must not see its bucket
	// change under it.
	for _, p := range puts {
		if err := b.Put(p.id, p.enc.record); err != nil {
			return err
		}
		if err := ix.Put(indexKey(sc.ID, string(p.id)), p.enc.index); err != nil {
			return err
		}
	}
	return nil
}

// decodeAny reads a feature record of this format or a JSON record of
// the format before it.
func decodeAny(id string, raw []byte) (*geo.Feature, error) {
	if len(raw) > 0 && raw[0] == '{' {
		return decodeJSON(id, raw)
	}
	rec, err := readRecord(raw)
	if err != nil {
		return nil, err
	}
	return rec.feature(id)
}

// jsonRecord is the feature record of the format before recordFormat,
// and still the form of a feature in an audit entry (audit.go).
type jsonRecord struct {
	Geometry   []byte         `json:"geometry"` // WKB; absent for a null geometry
	Properties map[string]any `json:"properties"`
	Version    int64          `json:"version"`
	Updated    time.Time      `json:"updated"`
}

func toJSONRecord(f *geo.Feature) (jsonRecord, error) {
	r := jsonRecord{Properties: f.Properties, Version: f.Version, Updated: f.Updated}
	if f.Geometry != nil {
		g, err := wkb.Marshal(f.Geometry)
		if err != nil {
			return r, err
		}
		r.Geometry = g
	}
	return r, nil
}

func decodeJSON(id string, raw []byte) (*geo.Feature, error) {
	var r jsonRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	f := &geo.Feature{ID: id, Properties: r.Properties, Version: r.Version, Updated: r.Updated}
	if f.Properties == nil {
		f.Properties = map[string]any{}
	}
	if r.Geometry != nil {
		g, err := wkb.Unmarshal(r.Geometry)
		if err != nil {
			return nil, err
		}
		f.Geometry = g
	}
	return f, nil
}
