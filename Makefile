# The two commands a newcomer needs: `make test` and `make serve`.
PYTHON ?= python3
PORT ?= 8000

.PHONY: test test-deps site serve clean

test-deps:
	$(PYTHON) -m pip install --quiet -r requirements-test.txt
	npm ci --no-audit --no-fund

test: test-deps site
	$(PYTHON) -m pytest -q

site:
	bash scripts/build_site.sh

serve: site
	@echo "Serving _site/ on http://127.0.0.1:$(PORT)/"
	$(PYTHON) -m http.server $(PORT) --bind 127.0.0.1 --directory _site

clean:
	rm -rf _site build dist py/*.egg-info .pytest_cache
