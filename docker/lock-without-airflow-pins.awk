# Prints the lines of requirements.lock (second file) whose package the Airflow constraints (first
# file) do not pin, so that pip can take both as constraints without a conflict: Airflow's tested
# set wins for what it pins. Names compare as PEP 503 normalises them (case, "-", "_", ".").
#   awk -f lock-without-airflow-pins.awk constraints.txt requirements.lock
function normal(line,    name) {
    name = tolower(line)
    sub(/[ =<>!~;\[].*/, "", name)
    gsub(/[-_.]+/, "-", name)
    return name
}
NR == FNR { if ($0 !~ /^#/ && NF) pinned[normal($0)] = 1; next }
$0 !~ /^#/ && NF && !(normal($0) in pinned) { print }
