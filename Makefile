# The two commands a newcomer needs: `make test` and `make serve`.
PYTHON ?= python3
PORT ?= 8000
# npm writes this file on every install: older than package-lock.json means node_modules is stale
NODE_STAMP := node_modules/.package-lock.json

.PHONY: test test-deps chromium site serve clean

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund

# The browser tests drive the system Chromium (never `playwright install`): installed here when
# missing and we may (root, Debian), else the one command to run.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "make test needs Chromium for the browser tests; install it with: sudo apt-get install -y chromium"; \
	    exit 1; \
	  fi; }

test-deps: chromium $(NODE_STAMP)
	$(PYTHON) -m pip install --quiet -r requirements-test.txt

test: test-deps site
	$(PYTHON) -m pytest -q

site: $(NODE_STAMP)
	bash scripts/build_site.sh

serve: site
	@echo "Serving _site/ on http://127.0.0.1:$(PORT)/"
	$(PYTHON) -m http.server $(PORT) --bind 127.0.0.1 --directory _site

clean:
	rm -rf _site build dist py/*.egg-info .pytest_cache
