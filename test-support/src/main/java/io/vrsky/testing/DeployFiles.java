package io.vrsky.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The operator files in {@code deploy/}: the Prometheus alert rules and the Grafana dashboard,
 * parsed, with the metric names their PromQL expressions use, so each service's tests can check
 * that every name exists in its registry.
 */
public final class DeployFiles {

    public static final String ALERTS = "deploy/prometheus-alerts.yml";
    public static final String DASHBOARD = "deploy/grafana-dashboard.json";

    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_:][A-Za-z0-9_:]*");
    private static final Set<String> KEYWORDS = Set.of("by", "without", "and", "or", "unless", "on", "ignoring", "group_left",
            "group_right", "bool", "offset");

    private DeployFiles() {
    }

    /** The repository root: the first directory upwards from the working directory that holds {@code deploy/}. */
    public static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("deploy"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("no deploy/ directory above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }

    /** The alert rules file, parsed (throws when it is not YAML). */
    public static JsonNode alerts() {
        try {
            return new ObjectMapper(new YAMLFactory()).readTree(root().resolve(ALERTS).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The dashboard, parsed (throws when it is not JSON). */
    public static JsonNode dashboard() {
        try {
            return new ObjectMapper().readTree(root().resolve(DASHBOARD).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every PromQL expression of both files: each rule's {@code expr} and each panel target's {@code expr}. */
    public static List<String> expressions() {
        List<String> exprs = new ArrayList<>();
        for (JsonNode group : alerts().path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                exprs.add(rule.path("expr").asText());
            }
        }
        for (JsonNode panel : dashboard().path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                exprs.add(target.path("expr").asText());
            }
        }
        return exprs;
    }

    /** The metric (sample) names {@code expr} reads: identifiers outside label matchers, groupings and ranges that are no function. */
    public static Set<String> metricNames(String expr) {
        String s = expr.replaceAll("\"(\\\\.|[^\"\\\\])*\"", "\"\"")  // string literals
                .replaceAll("\\{[^}]*}", " ")                           // label matchers
                .replaceAll("\\[[^]]*]", " ")                           // ranges
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
        Set<String> names = new TreeSet<>();
        Matcher m = IDENTIFIER.matcher(s);
        while (m.find()) {
            String word = m.group();
            int after = m.end();
            while (after < s.length() && s.charAt(after) == ' ') {
                after++;
            }
            boolean function = after < s.length() && s.charAt(after) == '(';
            boolean partOfNumber = m.start() > 0 && Character.isDigit(s.charAt(m.start() - 1));
            if (!function && !partOfNumber && !KEYWORDS.contains(word)) {
                names.add(word);
            }
        }
        return names;
    }

    /** The metric names used anywhere in both files. */
    public static Set<String> metricNames() {
        Set<String> names = new TreeSet<>();
        expressions().forEach(e -> names.addAll(metricNames(e)));
        return names;
    }

    /** The sample names in a Prometheus text exposition ({@code name{labels} value}). */
    public static Set<String> sampleNames(String exposition) {
        Set<String> names = new TreeSet<>();
        for (String line : exposition.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int end = 0;
            while (end < line.length() && line.charAt(end) != '{' && line.charAt(end) != ' ') {
                end++;
            }
            names.add(line.substring(0, end));
        }
        return names;
    }
}
