# The two commands of README.md:
#   make run    serve the map on http://127.0.0.1:8080 (embedded store, seed data)
#   make test   everything CI checks, against a throwaway PostGIS
# Both install what they need from Debian and npm on a fresh machine.

GO      ?= go
# staticcheck comes through the Go module proxy, pinned.
STATICCHECK ?= v0.8.2
ADDR    ?= 127.0.0.1:8080
export CGO_ENABLED ?= 1

.PHONY: run test check deps test-deps web build bench clean

## run: build the map bundle and serve with the embedded store in ./var
run: web
	$(GO) run ./cmd/hazardmap serve --addr $(ADDR)

## build: the hazardmap binary in ./bin
build: web
	$(GO) build -o bin/hazardmap ./cmd/hazardmap

## web: install the map's npm packages (lock file) and bundle it into web/map/dist
web:
	scripts/build-web

## test-deps: Debian packages the tests use (PostGIS, GDAL, Chromium, wrk)
test-deps:
	scripts/install-test-deps

## test: format, vet, staticcheck, and the whole suite with the race detector on a throwaway PostGIS
test: test-deps web check

check:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './web/map/node_modules/*'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK) ./...
	scripts/with-postgis $(GO) test -race -count=1 ./...

## bench: Go benchmarks (see README "Benchmarks" for the wrk runs)
bench: web
	scripts/with-postgis $(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin web/map/dist/assets
