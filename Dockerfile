# One image recipe for either service:
#   docker build --build-arg SERVICE=crm -t crm-erp/crm .
#   docker build --build-arg SERVICE=erp -t crm-erp/erp .
# The image runs the service's operator CLI: `web` (default), `worker`, `migrate`, `ensure-topics`, ...
#   docker run --rm crm-erp/crm migrate
# Configuration is by environment (CRM_DATABASE_URL / ERP_DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS, ...).

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
RUN case "$SERVICE" in crm|erp) ;; *) echo "build with --build-arg SERVICE=crm or SERVICE=erp" >&2; exit 1;; esac
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY shared/events /src/shared/events
COPY shared/servicekit /src/shared/servicekit
COPY services/${SERVICE} /src/services/${SERVICE}
# Non-editable install: the migrations (src/<service>/migrations) travel inside the package.
RUN /opt/venv/bin/pip install /src/shared/events /src/shared/servicekit "/src/services/${SERVICE}" \
 && /opt/venv/bin/python -c 'import importlib, pathlib, sys; \
m = pathlib.Path(importlib.import_module(sys.argv[1]).__file__).parent / "migrations"; \
assert (m / "env.py").is_file() and any((m / "versions").glob("*.py")), f"migrations missing in {m}"' "$SERVICE" \
 && "/opt/venv/bin/${SERVICE}" --help >/dev/null

FROM ${PYTHON_IMAGE}
ARG SERVICE
# SERVICE stays in the environment: the entrypoint runs the console script it names.
ENV SERVICE=${SERVICE} \
    PATH=/opt/venv/bin:${PATH} \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CRM_BIND=0.0.0.0:8000 \
    ERP_BIND=0.0.0.0:8000
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
WORKDIR /tmp
USER 10001:10001
EXPOSE 8000
# `crm web` / `erp web`; exec keeps the service as PID 1 so it receives SIGTERM.
ENTRYPOINT ["/bin/sh", "-c", "exec \"/opt/venv/bin/${SERVICE}\" \"$@\"", "--"]
CMD ["web"]
