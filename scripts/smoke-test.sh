#!/usr/bin/env bash
# DNT-RIC smoke test for your own cluster: run it after `dntctl deploy all` (docs/deploy.md, step 9).
#
#   scripts/smoke-test.sh                      # defaults below
#   XAPP_NS=ricxapp PLT_NS=ricplt scripts/smoke-test.sh
#
# Needs only kubectl (with a context on the cluster). Health endpoints and the A1 mediator / e2mgr are read
# through the API server's proxy (kubectl get --raw .../proxy/...), so no port-forward is needed; SDL is read
# with redis-cli inside the dbaas pod (kubectl exec). Prints PASS/FAIL per check; exits 1 when any check fails.
set -euo pipefail

XAPP_NS=${XAPP_NS:-ricxapp}                 # where the DNT-RIC xApps run
PLT_NS=${PLT_NS:-ricplt}                    # where the near-RT RIC platform runs
SELECTOR=${SELECTOR:-app.kubernetes.io/part-of=dnt-ric}
HTTP_PORT=${HTTP_PORT:-8080}                # the xApps' http port (ric/v1/health/alive|ready)
A1_SVC=${A1_SVC:-service-ricplt-a1mediator-http:10000}
E2MGR_SVC=${E2MGR_SVC:-service-ricplt-e2mgr-http:3800}
A1_TYPES=${A1_TYPES:-20100}                 # policy types that must be onboarded (space-separated)
TWIN_TYPE=${TWIN_TYPE:-20100}               # the dnt-twin type: at least one instance expected
FORECAST_NS=${FORECAST_NS:-htwin}           # SDL namespace of the htwin forecasts (key forecast:<cell>)
DBAAS_POD=${DBAAS_POD:-}                    # default: the first pod in PLT_NS whose name contains "dbaas"
KUBECTL=${KUBECTL:-kubectl}

passed=0
failed=0

pass() { printf 'PASS  %s\n' "$1"; passed=$((passed + 1)); }
fail() { printf 'FAIL  %s: %s\n' "$1" "$2"; failed=$((failed + 1)); }

raw() { "$KUBECTL" get --raw "$1" 2>/dev/null; }

check_cluster() {
    if "$KUBECTL" version --request-timeout=10s >/dev/null 2>&1; then
        pass "cluster reachable ($("$KUBECTL" config current-context 2>/dev/null || echo in-cluster))"
    else
        fail "cluster reachable" "kubectl cannot reach the API server (KUBECONFIG? context?)"
        summary
    fi
}

check_pods() {
    local pods
    pods=$("$KUBECTL" -n "$XAPP_NS" get pods -l "$SELECTOR" \
        -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' \
        2>/dev/null || true)
    if [[ -z "$pods" ]]; then
        fail "pods in $XAPP_NS ($SELECTOR)" "none found: was dntctl deploy run?"
        return
    fi
    while read -r name ready; do
        [[ -z "$name" ]] && continue
        if [[ "$ready" == "True" ]]; then
            pass "pod $name ready"
        else
            fail "pod $name ready" "Ready=${ready:-unknown} (kubectl -n $XAPP_NS describe pod $name)"
        fi
    done <<<"$pods"
}

check_health() {
    local name path
    for name in $("$KUBECTL" -n "$XAPP_NS" get pods -l "$SELECTOR" --field-selector=status.phase=Running \
        -o jsonpath='{range .items[*]}{.metadata.name}{" "}{end}' 2>/dev/null || true); do
        # only pods that expose the xApp http port answer ric/v1/health (the vtwin registry does not)
        if ! "$KUBECTL" -n "$XAPP_NS" get pod "$name" \
            -o jsonpath='{.spec.containers[*].ports[*].containerPort}' 2>/dev/null | grep -qw "$HTTP_PORT"; then
            continue
        fi
        for path in alive ready; do
            if raw "/api/v1/namespaces/$XAPP_NS/pods/$name:$HTTP_PORT/proxy/ric/v1/health/$path" >/dev/null; then
                pass "health $name /ric/v1/health/$path"
            else
                fail "health $name /ric/v1/health/$path" "no 200 through the pod proxy"
            fi
        done
    done
}

check_a1() {
    local base="/api/v1/namespaces/$PLT_NS/services/$A1_SVC/proxy/A1-P/v2"
    local types t instances
    if ! types=$(raw "$base/policytypes"); then
        fail "A1 mediator $A1_SVC" "GET /A1-P/v2/policytypes failed"
        return
    fi
    pass "A1 mediator answers (types: $types)"
    for t in $A1_TYPES; do
        if grep -qE "(^|[^0-9])$t([^0-9]|$)" <<<"$types"; then
            pass "A1 policy type $t onboarded"
        else
            fail "A1 policy type $t onboarded" "not in $types (dntctl a1 create-type schemas/a1/*.json)"
        fi
    done
    instances=$(raw "$base/policytypes/$TWIN_TYPE/policies" || true)
    if [[ -n "$instances" && "$instances" != "[]" ]]; then
        pass "A1 policy instances of $TWIN_TYPE: $instances"
    else
        fail "A1 policy instance of $TWIN_TYPE" "none: has the vtwin rApp published its policy? (a1_url)"
    fi
}

check_e2() {
    local states
    states=$(raw "/api/v1/namespaces/$PLT_NS/services/$E2MGR_SVC/proxy/v1/nodeb/states" || true)
    if grep -q '"CONNECTED"' <<<"$states"; then
        pass "E2 nodes connected ($(grep -o '"CONNECTED"' <<<"$states" | wc -l | tr -d ' '))"
    else
        fail "E2 nodes connected" "e2mgr lists none: is the simulator running (dntctl sim / helm/e2sim)?"
    fi
}

check_sdl() {
    local pod count
    pod=${DBAAS_POD:-$("$KUBECTL" -n "$PLT_NS" get pods -o name 2>/dev/null | grep -m1 dbaas | cut -d/ -f2 || true)}
    if [[ -z "$pod" ]]; then
        fail "SDL (dbaas)" "no dbaas pod in $PLT_NS (set DBAAS_POD)"
        return
    fi
    # ricsdl keys are "{<namespace>},<key>"
    count=$("$KUBECTL" -n "$PLT_NS" exec "$pod" -- redis-cli --scan --pattern "{$FORECAST_NS},forecast:*" \
        2>/dev/null | wc -l | tr -d ' ' || true)
    if [[ "${count:-0}" -gt 0 ]]; then
        pass "SDL forecasts {$FORECAST_NS},forecast:* ($count cells, dbaas pod $pod)"
    else
        fail "SDL forecasts {$FORECAST_NS},forecast:*" "none yet (htwin needs KPM reports and a global twin)"
    fi
}

summary() {
    printf '\n%d passed, %d failed\n' "$passed" "$failed"
    if [[ "$failed" -gt 0 ]]; then
        exit 1
    fi
    exit 0
}

check_cluster
check_pods
check_health
check_a1
check_e2
check_sdl
summary
