// Package data holds hazardmap's seed dataset: the waterlogging points,
// riverbed relocation sites, emergency-supply depots and water-level
// gauges named in Xingyang
// Emergency Management Bureau's 2024 rectification report, as RFC 7946
// GeoJSON with the source and precision of every coordinate, and read-only
// context layers (county outline, rough township zones, rough railway) for
// the map. README.md in this directory gives sources, licences and
// attribution.
package data

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

//go:embed seed/*.geojson context/*.geojson
var files embed.FS

// Seed returns the raw GeoJSON FeatureCollection of collection, one of the
// ids SeedCollections returns. Any other name is an error.
func Seed(collection string) ([]byte, error) {
	if !slices.Contains(SeedCollections(), collection) {
		return nil, fmt.Errorf("data: no seed collection %q", collection)
	}
	return files.ReadFile("seed/" + collection + ".geojson")
}

// SeedCollections returns the ids of the seed collections in display order.
// Each call returns a new slice.
func SeedCollections() []string {
	return []string{"waterlogging_points", "relocation_sites", "depots", "gauges"}
}

// Context returns the read-only context layers as a file system rooted at
// the context directory: one GeoJSON FeatureCollection per layer, named
// after ContextLayers with the extension ".geojson".
func Context() fs.FS {
	sub, err := fs.Sub(files, "context")
	if err != nil {
		// fs.Sub fails only for an invalid path name; "context" is valid.
		panic("data: " + err.Error())
	}
	return sub
}

// ContextLayers returns the names of the context layers, without the
// ".geojson" extension, in lexical order.
func ContextLayers() []string {
	entries, err := files.ReadDir("context")
	if err != nil {
		// The directory is embedded at build time, so it always exists.
		panic("data: " + err.Error())
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if path.Ext(e.Name()) == ".geojson" {
			names = append(names, strings.TrimSuffix(e.Name(), ".geojson"))
		}
	}
	return names
}
