package io.natgw.gateway.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** Plain text tables with columns as wide as their widest cell. */
final class Tables {

    private Tables() {
    }

    static void print(PrintWriter out, List<String> header, List<List<String>> rows) {
        int[] width = new int[header.size()];
        List<List<String>> all = new ArrayList<>();
        all.add(header);
        all.addAll(rows);
        for (List<String> r : all) {
            for (int i = 0; i < r.size(); i++) {
                width[i] = Math.max(width[i], r.get(i).length());
            }
        }
        for (List<String> r : all) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < r.size(); i++) {
                sb.append(i == r.size() - 1 ? r.get(i) : String.format("%-" + width[i] + "s  ", r.get(i)));
            }
            out.println(sb.toString().stripTrailing());
        }
    }

    /** 3725 s → {@code 1h02m05s}; null (static) → {@code never}. */
    static String duration(com.fasterxml.jackson.databind.JsonNode seconds) {
        if (seconds == null || seconds.isNull() || seconds.isMissingNode()) {
            return "never";
        }
        long s = seconds.asLong();
        if (s >= 3600) {
            return String.format("%dh%02dm%02ds", s / 3600, s / 60 % 60, s % 60);
        }
        return s >= 60 ? String.format("%dm%02ds", s / 60, s % 60) : s + "s";
    }
}
