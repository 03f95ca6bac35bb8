# SPDX-License-Identifier: GPL-2.0
# The fault campaign's table from its TSV (campaign.sh): one line per fault,
# tab separated: kind, host sound (yes/no), calls that ended in an error,
# calls hung, recovery in ms (empty: the node did not serve again).  Used
# by campaign.sh inside the test VM and by scripts/faults-table on the host
# when the test VM died before the campaign could print it.
# Usage: awk -F'\t' -f table.awk faults.tsv
function median(k,   n, i, j, t, a) {
	n = split(rec[k], a, " ")
	for (i = 1; i <= n; i++)
		for (j = i + 1; j <= n; j++)
			if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	if (n == 0) return "-"
	return (n % 2) ? a[(n + 1) / 2] : int((a[n / 2] + a[n / 2 + 1]) / 2)
}
{
	if (!($1 in count)) order[++kinds] = $1
	count[$1]++; total++
	if ($2 == "yes") ok[$1]++
	errs[$1] += $3; hung[$1] += $4; allhung += $4
	if ($5 != "") {
		rec[$1] = rec[$1] " " $5
		if ($5 + 0 > worst[$1]) worst[$1] = $5 + 0
	}
}
END {
	print "| fault kind | count | host survived | calls completed with an error | calls hung | median recovery | worst recovery |"
	print "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
	for (i = 1; i <= kinds; i++) {
		k = order[i]
		m = median(k)
		printf "| %s | %d | %d/%d | %d | %d | %s | %s |\n", k, count[k], ok[k], count[k], \
			errs[k], hung[k], (m == "-") ? "-" : sprintf("%.1f s", m / 1000), \
			(k in worst) ? sprintf("%.1f s", worst[k] / 1000) : "-"
	}
	printf "\n%d faults, %d calls hung\n", total, allhung
}
