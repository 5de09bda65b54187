# The two commands of README.md:
#   make run    serve the map on http://127.0.0.1:8080 (embedded store, seed data)
#   make test   everything CI checks, against a throwaway PostGIS
# make run needs only Go: the map's bundle (web/map/dist) is committed, and rebuilt (with
# Node.js) only when web/map was changed. make test installs what it needs from Debian and npm.

GO      ?= go
# staticcheck comes through the Go module proxy, pinned.
STATICCHECK ?= v0.8.2
ADDR    ?= 127.0.0.1:8080
export CGO_ENABLED ?= 1

.PHONY: run test check deps test-deps web web-if-stale web-check build bench clean

## run: serve with the embedded store in ./var (rebuilding the map first if web/map was changed)
run: web-if-stale
	$(GO) run ./cmd/hazardmap serve --addr $(ADDR)

## build: the hazardmap binary in ./bin
build: web-if-stale
	$(GO) build -o bin/hazardmap ./cmd/hazardmap

## web: install the map's npm packages (lock file) and bundle it into web/map/dist (committed)
web:
	scripts/build-web

web-if-stale:
	scripts/build-web --if-stale

## web-check: fail unless web/map/dist is exactly what web/map/src builds with the lock file
web-check:
	scripts/build-web --check

## test-deps: Debian packages the tests use (PostGIS, GDAL, Chromium, wrk)
test-deps:
	scripts/install-test-deps

## test: the committed map bundle, format, vet, staticcheck, and the whole suite with the race
## detector on a throwaway PostGIS
test: test-deps web-check check

check:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './web/map/node_modules/*'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK) ./...
	scripts/with-postgis $(GO) test -race -count=1 ./...

## bench: Go benchmarks (see README "Benchmarks" for the wrk runs)
bench:
	scripts/with-postgis $(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
