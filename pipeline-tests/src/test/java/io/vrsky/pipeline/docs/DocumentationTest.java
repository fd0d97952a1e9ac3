package io.vrsky.pipeline.docs;

import io.vrsky.consumer.ConsumerConfig;
import io.vrsky.core.codec.EnvelopeCodec;
import io.vrsky.core.config.ConfigException;
import io.vrsky.core.model.Envelope;
import io.vrsky.core.model.Operation;
import io.vrsky.producer.ProducerConfig;
import io.vrsky.testing.Repository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Keeps the user documentation true to the code, without any server: every environment variable the
 * services read is in a {@code Variable} table of a guide, with the default the code uses; every
 * relative link in README.md and docs/ resolves (file and anchor); no document points outside the
 * repository; the envelope examples are byte for byte what {@link EnvelopeCodec} writes; every
 * {@code vrsky-admin} command shown exists; every Java example compiles. Each failure names the file, the line and what is wrong.
 */
final class DocumentationTest {

    private static final Path ROOT = Repository.root();
    private static final Path DOCS = ROOT.resolve("docs");
    private static final Path CONSUMER_GUIDE = DOCS.resolve("DB_CONSUMER_GUIDE.md");
    private static final Path PRODUCER_GUIDE = DOCS.resolve("DB_PRODUCER_GUIDE.md");
    private static final Path ENVELOPE_REFERENCE = DOCS.resolve("ENVELOPE_REFERENCE.md");

    /** A string literal naming a variable the services read. */
    private static final Pattern VARIABLE_LITERAL = Pattern.compile("\"((?:POSTGRES_|NATS_|HEALTH_|LOG_|DEPENDENCY_)[A-Z0-9_]*)\"");
    /** {@code p + "HOST"}: a suffix appended to a {@code "POSTGRES_" + direction + "_"} prefix. */
    private static final Pattern SUFFIX_LITERAL = Pattern.compile("\\b\\w+\\s*\\+\\s*\"([A-Z][A-Z0-9_]*)\"");
    private static final Pattern DIRECTION_PREFIX = Pattern.compile("\"POSTGRES_\"\\s*\\+\\s*\\w+\\s*\\+\\s*\"_\"");
    private static final Pattern LOGBACK_DEFAULT = Pattern.compile("\\$\\{((?:LOG_)[A-Z0-9_]+):-([^}]*)}");
    private static final Pattern BACKTICKED = Pattern.compile("`([^`]+)`");
    private static final Pattern LINK = Pattern.compile("(?<!!)\\[[^\\]]*\\]\\(([^)\\s]+)\\)");
    private static final Pattern FORBIDDEN = Pattern.compile(
            "DESIGN\\.md|\\.\\./shared|design repository|\\bissue\\s+#?\\d|\\binvariant\\s+\\d", Pattern.CASE_INSENSITIVE);
    /** Documents another part of the work owns and still has to clean up; their links are checked all the same. */
    private static final Pattern ADMIN_CALL = Pattern.compile("vrsky-admin(?:\\.jar)?\\s+([a-z][a-z-]*)(?:\\s+([a-z][a-z-]*))?");
    private static final Pattern COMMAND_NAME = Pattern.compile("@Command\\(\\s*name\\s*=\\s*\"([a-z-]+)\"");
    private static final Pattern PUBLIC_CLASS = Pattern.compile("(?m)^public (?:final )?class (\\w+)");
    private static final Pattern SUBCOMMAND_CLASSES = Pattern.compile("subcommands\\s*=\\s*\\{([^}]*)\\}");

    // ---------------------------------------------------------------- variables

    @Test
    void everyVariableTheCodeReadsIsInAGuidesVariableTable() {
        Map<String, Row> consumerRows = variableRows(CONSUMER_GUIDE);
        Map<String, Row> producerRows = variableRows(PRODUCER_GUIDE);
        Set<String> core = variablesReadBy("envelope-core");
        Set<String> consumer = union(variablesReadBy("postgres-consumer"), withoutDirection(core, "OUTPUT"));
        Set<String> producer = union(variablesReadBy("postgres-producer"), withoutDirection(core, "INPUT"));
        Set<String> admin = variablesReadBy("vrsky-admin");
        // the scan itself must work: these are read through a "POSTGRES_" + direction + "_" prefix
        assertThat(consumer).as("variables found in the consumer's and envelope-core's sources")
                .contains("POSTGRES_INPUT_HOST", "POSTGRES_INPUT_SSLMODE", "POSTGRES_INPUT_BATCH_SIZE", "NATS_URL", "LOG_LEVEL");
        assertThat(producer).as("variables found in the producer's and envelope-core's sources")
                .contains("POSTGRES_OUTPUT_PASSWORD", "POSTGRES_OUTPUT_TABLES", "NATS_DURABLE", "HEALTH_PORT");

        List<String> problems = new ArrayList<>();
        missing(consumer, consumerRows, CONSUMER_GUIDE, "postgres-consumer", problems);
        missing(producer, producerRows, PRODUCER_GUIDE, "postgres-producer", problems);
        Set<String> documented = union(consumerRows.keySet(), producerRows.keySet());
        for (String name : new TreeSet<>(admin)) {
            if (!documented.contains(name)) {
                problems.add(name + " is read by vrsky-admin but is in no Variable table of " + rel(CONSUMER_GUIDE) + " or " + rel(PRODUCER_GUIDE));
            }
        }
        Set<String> read = union(union(consumer, producer), admin);
        for (Map.Entry<String, Row> e : union(consumerRows, producerRows).entrySet()) {
            if (!read.contains(e.getKey())) {
                problems.add(e.getValue().where() + ": " + e.getKey() + " is documented but no service reads it");
            }
        }
        assertThat(problems).as("variables and the guides' Variable tables").isEmpty();
    }

    @Test
    void documentedDefaultsAreTheCodesDefaults() {
        Map<String, String> consumerBase = Map.of("POSTGRES_INPUT_HOST", "db", "POSTGRES_INPUT_USER", "cdc",
                "POSTGRES_INPUT_DATABASE", "shop");
        Map<String, String> producerBase = Map.of("POSTGRES_OUTPUT_HOST", "db", "POSTGRES_OUTPUT_USER", "writer",
                "POSTGRES_OUTPUT_DATABASE", "sink", "POSTGRES_OUTPUT_TABLES", "public.orders");
        List<String> problems = new ArrayList<>();
        checkDefaults(CONSUMER_GUIDE, consumerBase, vars -> ConsumerConfig.fromEnv(vars).toString(), problems);
        checkDefaults(PRODUCER_GUIDE, producerBase, vars -> ProducerConfig.fromEnv(vars).toString(), problems);
        assertThat(problems).as("documented defaults").isEmpty();
    }

    /**
     * A default written as a value ({@code `5s`}) must give the same configuration as leaving the
     * variable unset; a variable documented as {@code required} must be refused when missing.
     */
    private static void checkDefaults(Path guide, Map<String, String> base, Function<Map<String, String>, String> config,
                                      List<String> problems) {
        String baseline = config.apply(base);
        Map<String, String> logback = logbackDefaults();
        int checked = 0;
        for (Row row : variableRows(guide).values()) {
            String cell = row.defaultCell().trim();
            if (cell.startsWith("required")) {
                Map<String, String> vars = new HashMap<>(base);
                vars.remove(row.name());
                try {
                    config.apply(vars);
                    problems.add(row.where() + ": " + row.name() + " is documented as required, but the configuration is valid without it");
                } catch (ConfigException e) {
                    if (e.problems().stream().noneMatch(p -> p.contains(row.name()))) {
                        problems.add(row.where() + ": " + row.name() + " is documented as required, but leaving it out reports "
                                + e.problems());
                    }
                }
                checked++;
                continue;
            }
            if (!cell.startsWith("`")) {
                continue; // "empty", "unset (no limit)", "all tables": no value to compare
            }
            Matcher m = BACKTICKED.matcher(cell);
            if (!m.find()) {
                continue;
            }
            if (logback.containsKey(row.name()) && !logback.get(row.name()).equals(m.group(1))) {
                problems.add(row.where() + ": " + row.name() + " is documented with default `" + m.group(1)
                        + "`, but logback.xml defaults it to `" + logback.get(row.name()) + "`");
            }
            String value = m.group(1).replace("<database>", base.getOrDefault("POSTGRES_INPUT_DATABASE", "sink"));
            Map<String, String> vars = new HashMap<>(base);
            vars.put(row.name(), value);
            String withDefault;
            try {
                withDefault = config.apply(vars);
            } catch (ConfigException e) {
                problems.add(row.where() + ": " + row.name() + "=" + value + " (the documented default) is refused: " + e.problems());
                continue;
            }
            if (!withDefault.equals(baseline)) {
                problems.add(row.where() + ": " + row.name() + " is documented with default `" + m.group(1)
                        + "`, but the code's default differs:\n  unset:      " + baseline + "\n  documented: " + withDefault);
            }
            checked++;
        }
        assertThat(checked).as("defaults checked in " + rel(guide)).isGreaterThan(10);
    }

    /** {@code ${LOG_LEVEL:-INFO}}: the defaults of the variables logback reads itself (they are in no configuration record). */
    private static Map<String, String> logbackDefaults() {
        Map<String, String> defaults = new HashMap<>();
        Matcher m = LOGBACK_DEFAULT.matcher(read(ROOT.resolve("envelope-core/src/main/resources/logback.xml")));
        while (m.find()) {
            defaults.put(m.group(1), m.group(2));
        }
        assertThat(defaults).as("variable defaults in logback.xml").containsKeys("LOG_FORMAT", "LOG_LEVEL");
        return defaults;
    }

    private static void missing(Set<String> read, Map<String, Row> rows, Path guide, String service, List<String> problems) {
        for (String name : new TreeSet<>(read)) {
            if (!rows.containsKey(name)) {
                problems.add(name + " is read by " + service + " but is not in a Variable table of " + rel(guide));
            }
        }
    }

    /** Every variable name in the markdown tables of {@code guide} whose first header cell is {@code Variable}. */
    private static Map<String, Row> variableRows(Path guide) {
        List<String> lines = lines(guide);
        Map<String, Row> rows = new LinkedHashMap<>();
        boolean inTable = false;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (!line.startsWith("|")) {
                inTable = false;
                continue;
            }
            List<String> cells = cells(line);
            if (cells.isEmpty()) {
                continue;
            }
            if (cells.get(0).equals("Variable")) {
                inTable = true;
                continue;
            }
            if (!inTable || cells.get(0).matches("-+|:?-+:?")) {
                continue;
            }
            String name = cells.get(0).replace("`", "").trim();
            String where = rel(guide) + ":" + (i + 1);
            if (rows.containsKey(name)) {
                fail(where + ": " + name + " is in a Variable table twice (also " + rows.get(name).where() + ")");
            }
            if (cells.size() < 4) {
                fail(where + ": the row of " + name + " needs 4 cells: Variable | Default | Allowed | Example/meaning");
            }
            rows.put(name, new Row(name, cells.get(1), where));
        }
        assertThat(rows).as("Variable tables in " + rel(guide)).isNotEmpty();
        return rows;
    }

    private static List<String> cells(String line) {
        String inner = line.substring(1, line.endsWith("|") && line.length() > 1 ? line.length() - 1 : line.length());
        List<String> cells = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean code = false;
        for (int i = 0; i < inner.length(); i++) {
            char c = inner.charAt(i);
            if (c == '`') {
                code = !code;
            }
            if (c == '|' && !code && (i == 0 || inner.charAt(i - 1) != '\\')) {
                cells.add(cell.toString().trim());
                cell.setLength(0);
            } else {
                cell.append(c);
            }
        }
        cells.add(cell.toString().trim());
        return cells;
    }

    /** The variable names in string literals of a module's main sources, with {@code "POSTGRES_" + direction + "_"} expanded. */
    private static Set<String> variablesReadBy(String module) {
        Set<String> names = new TreeSet<>();
        try (Stream<Path> files = Files.walk(ROOT.resolve(module).resolve("src/main/java"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                String source = Files.readString(file, StandardCharsets.UTF_8);
                Matcher m = VARIABLE_LITERAL.matcher(source);
                while (m.find()) {
                    if (!m.group(1).endsWith("_")) {
                        names.add(m.group(1));
                    }
                }
                if (DIRECTION_PREFIX.matcher(source).find()) {
                    Matcher s = SUFFIX_LITERAL.matcher(source);
                    while (s.find()) {
                        for (String direction : List.of("INPUT", "OUTPUT")) {
                            names.add("POSTGRES_" + direction + "_" + s.group(1));
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return names;
    }

    private static Set<String> withoutDirection(Set<String> names, String direction) {
        Set<String> result = new TreeSet<>(names);
        result.removeIf(n -> n.startsWith("POSTGRES_" + direction + "_"));
        return result;
    }

    // ---------------------------------------------------------------- links and references

    @Test
    void relativeLinksPointToExistingFilesAndHeadings() {
        List<String> problems = new ArrayList<>();
        for (Path doc : documents()) {
            List<String> lines = lines(doc);
            boolean fence = false;
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                if (line.trim().startsWith("```")) {
                    fence = !fence;
                    continue;
                }
                if (fence) {
                    continue;
                }
                Matcher m = LINK.matcher(line);
                while (m.find()) {
                    String target = m.group(1);
                    if (target.matches("[a-z][a-z0-9+.-]*:.*")) {
                        continue; // https:, mailto:
                    }
                    String where = rel(doc) + ":" + (i + 1);
                    int hash = target.indexOf('#');
                    String file = hash < 0 ? target : target.substring(0, hash);
                    String anchor = hash < 0 ? null : target.substring(hash + 1);
                    Path resolved = file.isEmpty() ? doc : doc.getParent().resolve(file).normalize();
                    if (!resolved.startsWith(ROOT)) {
                        problems.add(where + ": link " + target + " leaves the repository");
                    } else if (!Files.exists(resolved)) {
                        problems.add(where + ": link " + target + " points to " + rel(resolved) + ", which does not exist");
                    } else if (anchor != null && resolved.toString().endsWith(".md") && !anchors(resolved).contains(anchor)) {
                        problems.add(where + ": link " + target + " names heading #" + anchor + ", which " + rel(resolved)
                                + " does not have");
                    }
                }
            }
        }
        assertThat(problems).as("relative links in README.md and docs/").isEmpty();
    }

    @Test
    void documentsReferToNothingOutsideTheRepositoryNorToTheProjectsProcess() {
        List<String> problems = new ArrayList<>();
        for (Path doc : documents()) {
            List<String> lines = lines(doc);
            for (int i = 0; i < lines.size(); i++) {
                Matcher m = FORBIDDEN.matcher(lines.get(i));
                while (m.find()) {
                    problems.add(rel(doc) + ":" + (i + 1) + ": mentions '" + m.group() + "': state it in the document's own words");
                }
            }
        }
        assertThat(problems).as("references outside the repository").isEmpty();
    }

    /** GitHub's heading anchors of a markdown file: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
    static Set<String> anchors(Path doc) {
        Set<String> anchors = new LinkedHashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        boolean fence = false;
        for (String line : lines(doc)) {
            if (line.trim().startsWith("```")) {
                fence = !fence;
                continue;
            }
            if (fence || !line.startsWith("#")) {
                continue;
            }
            String text = line.replaceFirst("^#+\\s*", "").trim();
            String slug = text.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
            int n = seen.merge(slug, 1, Integer::sum);
            anchors.add(n == 1 ? slug : slug + "-" + (n - 1));
        }
        return anchors;
    }

    // ---------------------------------------------------------------- envelope examples

    @Test
    void envelopeExamplesAreWhatTheCodecWritesByteForByte() {
        EnvelopeCodec codec = new EnvelopeCodec();
        List<String> lines = lines(ENVELOPE_REFERENCE);
        List<String> problems = new ArrayList<>();
        Set<Operation> ops = EnumSet.noneOf(Operation.class);
        List<String> standardTexts = new ArrayList<>();
        int full = 0;
        int minimal = 0;
        int compact = 0;
        for (int i = 0; i < lines.size(); i++) {
            String info = lines.get(i).trim();
            if (!info.startsWith("```json")) {
                continue;
            }
            int start = i + 1;
            StringBuilder body = new StringBuilder();
            for (i = start; i < lines.size() && !lines.get(i).trim().startsWith("```"); i++) {
                body.append(lines.get(i)).append('\n');
            }
            String where = rel(ENVELOPE_REFERENCE) + ":" + start;
            String text = body.toString().strip();
            if (!text.contains("\"payload\"")) {
                continue;
            }
            Envelope decoded;
            try {
                decoded = codec.decode(text.getBytes(StandardCharsets.UTF_8));
            } catch (RuntimeException e) {
                problems.add(where + ": the example does not decode: " + e.getMessage());
                continue;
            }
            if (info.equals("```json compact-envelope")) {
                compact++;
                String encoded = new String(codec.encodeCompact(decoded), StandardCharsets.UTF_8);
                if (!encoded.equals(text)) {
                    problems.add(where + ": the compact example is not what EnvelopeCodec writes for it:\n  doc:   " + text
                            + "\n  codec: " + encoded);
                }
                if (!standardTexts.contains(new String(codec.encode(decoded), StandardCharsets.UTF_8))) {
                    problems.add(where + ": the compact example does not read as any of the standard examples");
                }
            } else if (info.equals("```json envelope")) {
                standardTexts.add(text);
                full++;
                decoded.changes().forEach(c -> ops.add(c.op()));
                String encoded = new String(codec.encode(decoded), StandardCharsets.UTF_8);
                if (!encoded.equals(text)) {
                    problems.add(where + ": the example is not what EnvelopeCodec writes for it:\n  doc:   " + text + "\n  codec: " + encoded);
                }
            } else {
                minimal++;
            }
        }
        assertThat(problems).as("envelope examples in " + rel(ENVELOPE_REFERENCE)).isEmpty();
        assertThat(full).as("full envelope examples (```json envelope) in " + rel(ENVELOPE_REFERENCE)).isGreaterThanOrEqualTo(6);
        assertThat(minimal).as("minimal envelope examples (```json) in " + rel(ENVELOPE_REFERENCE)).isGreaterThanOrEqualTo(1);
        assertThat(compact).as("compact envelope examples (```json compact-envelope) in " + rel(ENVELOPE_REFERENCE)).isGreaterThanOrEqualTo(1);
        assertThat(ops).as("operations shown by the full examples").containsAll(EnumSet.allOf(Operation.class));
    }

    // ---------------------------------------------------------------- Java examples

    /** Every ```java example of the docs that declares a public class compiles against the services' libraries (jnats, ...). */
    @Test
    void javaExamplesCompile(@TempDir Path dir) throws IOException {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertThat(javac).as("a JDK compiler for the Java examples").isNotNull();
        List<String> problems = new ArrayList<>();
        int compiled = 0;
        for (Path doc : documents()) {
            List<String> lines = lines(doc);
            for (int i = 0; i < lines.size(); i++) {
                if (!lines.get(i).trim().equals("```java")) {
                    continue;
                }
                int start = i + 1;
                StringBuilder body = new StringBuilder();
                for (i = start; i < lines.size() && !lines.get(i).trim().startsWith("```"); i++) {
                    body.append(lines.get(i)).append('\n');
                }
                Matcher name = PUBLIC_CLASS.matcher(body);
                if (!name.find()) {
                    continue;
                }
                Path source = Files.createDirectories(dir.resolve("example" + start)).resolve(name.group(1) + ".java");
                Files.writeString(source, body, StandardCharsets.UTF_8);
                java.io.StringWriter out = new java.io.StringWriter();
                boolean ok = javac.getTask(out, null, null,
                        List.of("-proc:none", "-d", source.getParent().toString(), "-cp", System.getProperty("java.class.path")),
                        null, javac.getStandardFileManager(null, null, StandardCharsets.UTF_8).getJavaFileObjects(source.toFile()))
                        .call();
                compiled++;
                if (!ok) {
                    problems.add(rel(doc) + ":" + start + ": the Java example " + name.group(1) + " does not compile:\n" + out);
                }
            }
        }
        assertThat(problems).as("Java examples in the docs").isEmpty();
        assertThat(compiled).as("Java examples found").isGreaterThanOrEqualTo(1);
    }

    // ---------------------------------------------------------------- vrsky-admin commands

    @Test
    void everyVrskyAdminCommandShownExists() {
        Path admin = ROOT.resolve("vrsky-admin/src/main/java/io/vrsky/admin");
        Map<String, Set<String>> commands = adminCommands(admin);
        assertThat(commands).as("vrsky-admin commands found in " + rel(admin)).containsKeys("status", "dlq", "teardown");
        List<String> problems = new ArrayList<>();
        int shown = 0;
        for (Path doc : documents()) {
            List<String> lines = lines(doc);
            boolean fence = false;
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                if (line.trim().startsWith("```")) {
                    fence = !fence;
                    continue;
                }
                List<String> code = new ArrayList<>();
                if (fence) {
                    code.add(line);
                } else {
                    Matcher b = BACKTICKED.matcher(line);
                    while (b.find()) {
                        code.add(b.group(1));
                    }
                }
                for (String snippet : code) {
                    Matcher m = ADMIN_CALL.matcher(snippet);
                    while (m.find()) {
                        shown++;
                        String where = rel(doc) + ":" + (i + 1);
                        Set<String> subcommands = commands.get(m.group(1));
                        if (subcommands == null) {
                            problems.add(where + ": vrsky-admin has no command '" + m.group(1) + "' (it has " + commands.keySet() + ")");
                        } else if (!subcommands.isEmpty() && m.group(2) != null && !subcommands.contains(m.group(2))) {
                            problems.add(where + ": vrsky-admin " + m.group(1) + " has no subcommand '" + m.group(2) + "' (it has "
                                    + subcommands + ")");
                        }
                    }
                }
            }
        }
        assertThat(problems).as("vrsky-admin commands in the docs").isEmpty();
        assertThat(shown).as("vrsky-admin commands found in the docs").isGreaterThan(5);
    }

    /** The top-level commands of vrsky-admin, each with the names of its own subcommands (empty when it has none). */
    private static Map<String, Set<String>> adminCommands(Path admin) {
        String root = read(admin.resolve("Admin.java"));
        Matcher list = SUBCOMMAND_CLASSES.matcher(root);
        assertThat(list.find()).as("the subcommands of Admin.java").isTrue();
        Map<String, Set<String>> commands = new LinkedHashMap<>();
        for (String item : list.group(1).split(",")) {
            String cls = item.trim().replace(".class", "");
            if (cls.endsWith("HelpCommand")) {
                commands.put("help", Set.of());
                continue;
            }
            String source = read(admin.resolve(cls + ".java"));
            Matcher names = COMMAND_NAME.matcher(source);
            assertThat(names.find()).as("@Command name of " + cls).isTrue();
            String name = names.group(1);
            Set<String> subs = new TreeSet<>();
            while (names.find()) {
                subs.add(names.group(1));
            }
            commands.put(name, subs);
        }
        return commands;
    }

    // ---------------------------------------------------------------- helpers

    private record Row(String name, String defaultCell, String where) {
    }

    private static List<Path> documents() {
        return Repository.userDocs();
    }

    private static List<String> lines(Path file) {
        return read(file).lines().toList();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static String rel(Path path) {
        return ROOT.relativize(path.toAbsolutePath().normalize()).toString();
    }

    private static <T> Set<T> union(Set<T> a, Set<T> b) {
        Set<T> result = new LinkedHashSet<>(a);
        result.addAll(b);
        return result;
    }

    private static <K, V> Map<K, V> union(Map<K, V> a, Map<K, V> b) {
        Map<K, V> result = new LinkedHashMap<>(a);
        b.forEach(result::putIfAbsent);
        return result;
    }
}
