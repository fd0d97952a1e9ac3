package io.vrsky.pipeline;

import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.api.StreamInfo;
import io.nats.client.api.StreamInfoOptions;
import io.vrsky.core.codec.EnvelopeCodec;
import io.vrsky.testing.NatsCluster;
import io.vrsky.testing.NatsServer;
import io.vrsky.testing.PostgresServer;
import io.vrsky.testing.RealServices;
import io.vrsky.testing.Repository;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The shell examples of README.md and docs/ run as written, against a real PostgreSQL, a private
 * nats-server and the built jars: the worked examples of both guides in order (each service
 * command starts the jar with the example's variables and must get ready and stop with exit 0;
 * psql and vrsky-admin lines run in bash and must succeed; transcripts must print what they show),
 * the guides' subscriber program, and the quick start. Only the connection (host, port, user,
 * password, NATS URL) is replaced by the test's. Every shell command of the docs is either run
 * here or named with the reason it cannot run on this machine; a new example that is neither
 * fails {@link #shouldRunOrExplainEveryShellCommandOfTheDocs()}.
 */
@ExtendWith(RealServices.class)
class GuideExamplesIT {

    private static final Path ROOT = Repository.root();
    private static final Path LOGS = Path.of(System.getProperty("vrsky.logs.dir", "target/pipeline-logs"), "GuideExamplesIT");

    /** Commands that cannot run on this machine or in this test, by their first words, and why. */
    private static final Map<String, String> NOT_HERE = notHere();

    private static Map<String, String> notHere() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("./mvnw", "the build and the test run themselves: CI runs ./mvnw verify");
        m.put("mvn", "the build and the test run themselves: CI runs ./mvnw verify");
        m.put("docker", "needs a Docker engine; this machine has only the client");
        m.put("jlink", "builds a trimmed runtime for a manual check of the whole end-to-end suite on it");
        m.put("bench/run.sh", "the opt-in benchmark (several minutes)");
        m.put("bash test/e2e_database_components.sh --local", "CI runs it (.ci/run)");
        m.put("bash test/e2e_database_components.sh --docker", "needs a Docker engine");
        return m;
    }

    private enum Kind { EXPORT, CONSUMER, PRODUCER, SHELL, NATS_VIEW, QUICKSTART, NOT_HERE, UNKNOWN }

    private static Kind kind(ShellExample.Command c) {
        List<String> p = c.program();
        if (p.isEmpty()) {
            return Kind.UNKNOWN;
        }
        if (p.get(0).equals("curl") && c.block().commands().stream().anyMatch(o -> !o.program().isEmpty()
                && o.program().get(0).equals("docker"))) {
            return Kind.NOT_HERE; // beside docker compose: it reads the compose services' published ports
        }
        String line = String.join(" ", p);
        if (NOT_HERE.keySet().stream().anyMatch(k -> line.equals(k) || line.startsWith(k + " "))) {
            return Kind.NOT_HERE;
        }
        String program = p.get(0);
        if (program.equals("export")) {
            return Kind.EXPORT;
        }
        if (program.equals("java") && p.size() > 2 && p.get(1).equals("-jar")) {
            String jar = Path.of(p.get(2)).getFileName().toString();
            return jar.equals("postgres-consumer.jar") ? Kind.CONSUMER : jar.equals("postgres-producer.jar") ? Kind.PRODUCER
                    : jar.equals("vrsky-admin.jar") ? Kind.SHELL : Kind.UNKNOWN;
        }
        if (program.equals("nats") && p.size() > 2 && p.get(1).equals("stream") && p.get(2).equals("view")) {
            return Kind.NATS_VIEW;
        }
        if (program.equals("scripts/quickstart-local.sh")) {
            return Kind.QUICKSTART;
        }
        return List.of("vrsky-admin", "psql", "ls").contains(program) ? Kind.SHELL : Kind.UNKNOWN;
    }

    @Test
    void shouldRunOrExplainEveryShellCommandOfTheDocs() throws IOException {
        List<String> unknown = new ArrayList<>();
        int run = 0;
        for (Path doc : Repository.userDocs()) {
            for (ShellExample block : ShellExample.read(doc)) {
                if (!block.isShell()) {
                    continue;
                }
                for (ShellExample.Command c : block.commands()) {
                    Kind k = kind(c);
                    if (k == Kind.UNKNOWN) {
                        unknown.add(c.where());
                    } else if (k != Kind.NOT_HERE) {
                        run++;
                    }
                }
            }
        }
        assertThat(unknown).as("shell commands in the docs that this test neither runs nor explains (teach it, or fix the example)")
                .isEmpty();
        assertThat(run).as("shell commands run by this test").isGreaterThan(20);
    }

    @Test
    @Timeout(600)
    void shouldRunTheConsumerGuidesExamplesInOrder(PostgresServer pg, NatsServer ignored) throws Exception {
        try (Walk walk = new Walk(pg, "consumer-guide")) {
            walk.fixture();
            boolean backfillAsked = false;
            for (ShellExample block : ShellExample.read(ROOT.resolve("docs/DB_CONSUMER_GUIDE.md"))) {
                if (block.isShell()) {
                    walk.run(block);
                } else if (block.lang().equals("java") && String.join("\n", block.text()).contains("class FileSink")) {
                    walk.runFileSink(block);
                } else if (block.lang().equals("sql") && block.heading().startsWith("5.")) {
                    // the worked example's backfill request, sent to the consumer the example started
                    walk.sql("shop", String.join("\n", block.text()));
                    await("the consumer reads the backfill request").atMost(Duration.ofSeconds(30))
                            .until(() -> walk.consumer.logContains("backfill of [public.customers] queued"));
                    backfillAsked = true;
                }
            }
            assertThat(walk.servicesStarted).as("consumer examples started").isGreaterThanOrEqualTo(5);
            assertThat(walk.fileSinkRan).as("the subscriber example ran").isTrue();
            assertThat(backfillAsked).as("the backfill example ran").isTrue();
        }
    }

    @Test
    @Timeout(600)
    void shouldRunTheProducerGuidesExamplesInOrder(PostgresServer pg, NatsServer ignored) throws Exception {
        try (Walk walk = new Walk(pg, "producer-guide")) {
            walk.fixture();
            // the source side of the producer's examples: a consumer of shop publishing public.orders to vrsky.cdc.shop
            walk.startConsumer(Map.of("POSTGRES_INPUT_DATABASE", "shop", "POSTGRES_INPUT_TABLES", "public.orders"));
            ShellExample.Command firstProducer = null;
            for (ShellExample block : ShellExample.read(ROOT.resolve("docs/DB_PRODUCER_GUIDE.md"))) {
                if (block.lang().equals("sql") && block.text().contains("-- sink") && block.text().contains("-- source")) {
                    // the errors example is about public.orders: the producer of the first example applies it
                    walk.startProducer(firstProducer);
                    walk.sqlSections(block);
                    await("the valid transaction applied").atMost(Duration.ofSeconds(60))
                            .until(() -> walk.count("analytics", "SELECT count(*) FROM orders WHERE id = 8") == 1);
                    await("the refused transaction dead-lettered").atMost(Duration.ofSeconds(60)).until(() -> walk.deadLetters() == 1);
                    walk.deadLetterExample = true;
                } else if (block.isShell()) {
                    for (ShellExample.Command c : block.commands()) {
                        if (firstProducer == null && kind(c) == Kind.PRODUCER) {
                            firstProducer = c;
                        }
                    }
                    walk.run(block);
                    if (walk.deadLetterExample && block.text().stream().anyMatch(l -> l.contains("dlq replay"))) {
                        await("the replayed transaction applied").atMost(Duration.ofSeconds(60))
                                .until(() -> walk.count("analytics", "SELECT count(*) FROM orders WHERE id = 7") == 1);
                        assertThat(walk.deadLetters()).as("dead letters left after the purge").isZero();
                        walk.deadLetterExample = false;
                    }
                }
            }
            assertThat(walk.servicesStarted).as("services started").isGreaterThanOrEqualTo(6);
            assertThat(walk.shellCommands).as("psql and vrsky-admin lines run").isGreaterThanOrEqualTo(5);
        }
    }

    @Test
    @Timeout(600)
    void shouldRunTheAdminExamplesAndPrintWhatTheTranscriptsShow(PostgresServer pg, NatsServer ignored) throws Exception {
        try (Walk walk = new Walk(pg, "admin")) {
            walk.fixture();
            walk.startConsumer(Map.of("POSTGRES_INPUT_DATABASE", "shop", "POSTGRES_INPUT_TABLES", "public.orders,sales.refunds",
                    "POSTGRES_INPUT_SIGNAL_TABLE", "public.vrsky_signal"));
            walk.startProducer(Map.of("POSTGRES_OUTPUT_DATABASE", "analytics", "POSTGRES_OUTPUT_TABLES", "public.orders",
                    "NATS_SUBJECT", "vrsky.cdc.shop"));
            walk.sql("analytics", "ALTER TABLE orders ADD CONSTRAINT qty_positive CHECK (qty > 0)");
            walk.sql("shop", "INSERT INTO orders (id, qty) VALUES (7, -1)");
            await("a dead letter to replay").atMost(Duration.ofSeconds(60)).until(() -> walk.deadLetters() == 1);
            walk.sql("analytics", "ALTER TABLE orders DROP CONSTRAINT qty_positive");
            // what the examples assume vrsky-admin is given: the source's variables and NATS (no sink: see the replay transcript)
            walk.exports.putAll(Map.of("POSTGRES_INPUT_DATABASE", "shop", "POSTGRES_INPUT_TABLES", "public.orders,sales.refunds",
                    "POSTGRES_INPUT_SIGNAL_TABLE", "public.vrsky_signal"));
            for (ShellExample block : ShellExample.read(ROOT.resolve("docs/admin.md"))) {
                if (block.isShell()) {
                    walk.run(block);
                }
            }
            await("the replayed dead letter applied").atMost(Duration.ofSeconds(60))
                    .until(() -> walk.count("analytics", "SELECT count(*) FROM orders WHERE id = 7") == 1);
            assertThat(walk.transcriptsChecked).as("transcript commands compared").isGreaterThanOrEqualTo(3);
        }
    }

    @Test
    @Timeout(300)
    void shouldStartTheQuickStartAndSeeTheSinkCatchUp() throws Exception {
        List<ShellExample.Command> quickstart = new ArrayList<>();
        for (ShellExample block : ShellExample.read(ROOT.resolve("README.md"))) {
            if (block.isShell()) {
                block.commands().stream().filter(c -> kind(c) == Kind.QUICKSTART).forEach(quickstart::add);
            }
        }
        assertThat(quickstart).as("the README's quick start").isNotEmpty();
        Files.createDirectories(LOGS);
        Path log = LOGS.resolve("quickstart.log");
        Files.deleteIfExists(log);
        // output to a file, not a pipe: Process.destroy() closes the pipes, and the script's last lines would hit SIGPIPE
        Process p = new ProcessBuilder("bash", "-c", quickstart.get(0).text()).directory(ROOT.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        Pattern progress = Pattern.compile("source: (\\d+) orders, newest: (\\d+).*sink: (\\d+) orders, newest: (\\d+)");
        boolean caughtUp;
        try {
            caughtUp = await("the quick start's sink caught up with its demo writer").atMost(Duration.ofSeconds(240))
                    .pollInterval(Duration.ofMillis(500)).until(() -> {
                        if (!p.isAlive()) {
                            throw new AssertionError("the quick start exited with " + p.exitValue() + ":\n" + Files.readString(log));
                        }
                        for (String line : Files.readAllLines(log)) {
                            Matcher m = progress.matcher(line);
                            if (m.find() && Integer.parseInt(m.group(2)) >= 3 && m.group(1).equals(m.group(3))
                                    && m.group(2).equals(m.group(4))) {
                                return true;
                            }
                        }
                        return false;
                    }, ok -> ok);
            p.destroy(); // SIGTERM, as Ctrl-C: the script stops everything and exits 0
            assertThat(p.waitFor(90, TimeUnit.SECONDS)).as("the quick start stops on SIGTERM").isTrue();
        } finally {
            p.destroyForcibly();
        }
        assertThat(caughtUp).isTrue();
        assertThat(p.exitValue()).as("exit code of the quick start after SIGTERM").isZero();
    }

    /** One walk through a document: its exported variables, the services it started, a private nats-server. */
    private static final class Walk implements AutoCloseable {

        private static final String[] SOURCE = {
            "CREATE TABLE orders (id bigint PRIMARY KEY, note text, qty int)",
            "CREATE TABLE order_lines (order_id bigint, line_no int, sku text, PRIMARY KEY (order_id, line_no))",
            "CREATE TABLE customers (id bigint PRIMARY KEY, name text)",
            "CREATE TABLE audit_log (id bigserial PRIMARY KEY, msg text)",
            "CREATE SCHEMA ops", "CREATE SCHEMA sales",
            "CREATE TABLE sales.refunds (id bigint PRIMARY KEY, amount numeric)",
            "INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 50) g",
        };
        private static final String[] SINK = {
            "CREATE TABLE orders (id bigint PRIMARY KEY, note text, qty int)",
            "CREATE TABLE order_lines (order_id bigint, line_no int, sku text, PRIMARY KEY (order_id, line_no))",
            "CREATE TABLE customers (id bigint PRIMARY KEY, name text)",
            "CREATE TABLE events (id bigint PRIMARY KEY, payload text)",
            "CREATE SCHEMA billing", "CREATE TABLE billing.invoices (id bigint PRIMARY KEY, amount numeric)",
        };

        private final PostgresServer pg;
        private final NatsCluster nats;
        private final Path dir;
        private final Path bin;
        final Map<String, String> exports = new LinkedHashMap<>();
        ServiceProcess consumer;
        ServiceProcess producer;
        int servicesStarted;
        int shellCommands;
        int transcriptsChecked;
        boolean fileSinkRan;
        boolean deadLetterExample;

        Walk(PostgresServer pg, String name) throws IOException {
            Assumptions.assumeTrue(NatsCluster.available(), "no nats-server binary for a private server");
            this.pg = pg;
            this.nats = NatsCluster.start(1);
            this.dir = Files.createDirectories(LOGS.resolve(name));
            this.bin = Files.createDirectories(dir.resolve("bin"));
            Path admin = ROOT.resolve("vrsky-admin/target/vrsky-admin.jar");
            assertThat(admin).as("vrsky-admin jar (built by the reactor before this module)").isRegularFile();
            Path wrapper = bin.resolve("vrsky-admin");
            Files.writeString(wrapper, "#!/bin/sh\nexec java -jar '" + admin.toAbsolutePath() + "' \"$@\"\n");
            Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
        }

        /** Fresh databases shop (source) and analytics (sink) with the tables the examples name. */
        void fixture() throws SQLException {
            for (String db : List.of("shop", "analytics")) {
                try (java.sql.Connection c = pg.connect("postgres"); Statement s = c.createStatement()) {
                    s.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '" + db + "'");
                    s.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
                    s.execute("CREATE DATABASE " + db);
                }
            }
            for (String statement : SOURCE) {
                sql("shop", statement);
            }
            for (String statement : SINK) {
                sql("analytics", statement);
            }
        }

        /** The connection the test replaces in whatever the docs set: host, port, user, password, TLS mode, NATS URL. */
        Map<String, String> connection() {
            Map<String, String> env = new HashMap<>();
            for (String side : List.of("INPUT", "OUTPUT")) {
                env.put("POSTGRES_" + side + "_HOST", pg.host());
                env.put("POSTGRES_" + side + "_PORT", Integer.toString(pg.port()));
                env.put("POSTGRES_" + side + "_USER", pg.user());
                env.put("POSTGRES_" + side + "_PASSWORD", pg.password());
                env.put("POSTGRES_" + side + "_SSLMODE", "disable");
            }
            env.put("NATS_URL", nats.url());
            env.put("PGHOST", pg.host());
            env.put("PGPORT", Integer.toString(pg.port()));
            env.put("PGUSER", pg.user());
            env.put("PGPASSWORD", pg.password());
            return env;
        }

        /**
         * The environment of a command: the exported variables, its own, then the test's connection
         * for each PostgreSQL side they configure (a side left out stays out: vrsky-admin reads a
         * side only when it is set).
         */
        private Map<String, String> environment(Map<String, String> own) {
            Map<String, String> env = new LinkedHashMap<>(exports);
            env.putAll(own);
            boolean input = env.keySet().stream().anyMatch(k -> k.startsWith("POSTGRES_INPUT_"));
            boolean output = env.keySet().stream().anyMatch(k -> k.startsWith("POSTGRES_OUTPUT_"));
            connection().forEach((k, v) -> {
                if ((input || !k.startsWith("POSTGRES_INPUT_")) && (output || !k.startsWith("POSTGRES_OUTPUT_"))) {
                    env.put(k, v);
                }
            });
            return env;
        }

        void run(ShellExample block) throws Exception {
            for (ShellExample.Command c : block.commands()) {
                switch (kind(c)) {
                    case EXPORT -> exports.putAll(new ShellExample.Command(c.block(), c.text().replaceFirst("^export\\s+", ""), List.of())
                            .assignments());
                    case CONSUMER -> startConsumerFresh(c.assignments());
                    case PRODUCER -> startProducer(c.assignments());
                    case SHELL -> shell(c);
                    case NATS_VIEW -> natsView(c);
                    case QUICKSTART, NOT_HERE -> { }
                    case UNKNOWN -> throw new AssertionError("no rule for " + c.where());
                }
            }
        }

        /** A consumer example is a new deployment: the previous one stops (exit 0) and its slot, publication and streams go. */
        void startConsumerFresh(Map<String, String> own) throws Exception {
            stopConsumer();
            try (java.sql.Connection c = pg.connect("shop"); Statement s = c.createStatement()) {
                s.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = 'shop'");
                List<String> pubs = new ArrayList<>();
                try (var rs = s.executeQuery("SELECT pubname FROM pg_publication")) {
                    while (rs.next()) {
                        pubs.add(rs.getString(1));
                    }
                }
                for (String pub : pubs) {
                    s.execute("DROP PUBLICATION \"" + pub + "\"");
                }
            }
            try (Connection nc = Nats.connect(nats.url())) {
                JetStreamManagement jsm = nc.jetStreamManagement();
                for (String stream : jsm.getStreamNames()) {
                    jsm.deleteStream(stream);
                }
            }
            startConsumer(own);
        }

        void startConsumer(Map<String, String> own) {
            stopConsumer();
            consumer = ServiceProcess.consumer("consumer-" + (++servicesStarted), environment(own), dir).start();
            consumer.awaitReady(); // assigned first: close() stops it also when it never gets ready
        }

        void startProducer(ShellExample.Command c) {
            assertThat(c).as("a producer command before the errors example").isNotNull();
            startProducer(c.assignments());
        }

        void startProducer(Map<String, String> own) {
            stopProducer();
            producer = ServiceProcess.producer("producer-" + (++servicesStarted), environment(own), dir).start();
            producer.awaitReady();
        }

        private void stopConsumer() {
            if (consumer != null) {
                assertThat(consumer.stop()).as(consumer.name() + " exit code after SIGTERM").isZero();
                consumer = null;
            }
        }

        private void stopProducer() {
            if (producer != null) {
                assertThat(producer.stop()).as(producer.name() + " exit code after SIGTERM").isZero();
                producer = null;
            }
        }

        /** Runs the command in bash from the repository root, vrsky-admin on PATH; it must exit 0 and print what a transcript shows. */
        void shell(ShellExample.Command c) throws Exception {
            ProcessBuilder b = new ProcessBuilder("bash", "-o", "pipefail", "-c", c.text()).directory(ROOT.toFile()).redirectErrorStream(true);
            b.environment().putAll(environment(Map.of()));
            b.environment().put("PATH", bin.toAbsolutePath() + ":" + System.getenv("PATH"));
            Process p = b.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as("exit code of " + c.where() + "\n" + out).isZero();
            shellCommands++;
            if (!c.expectedOutput().isEmpty()) {
                assertThat(normalize(out.strip())).as("output of " + c.where()).isEqualTo(normalize(String.join("\n", c.expectedOutput()).strip()));
                transcriptsChecked++;
            }
        }

        /** Numbers and the PostgreSQL address differ from run to run; the words must not. */
        private static String normalize(String text) {
            return text.replaceAll("PostgreSQL at [^ /]+/", "PostgreSQL at HOST/").replaceAll("\\d+", "N");
        }

        /** {@code nats stream view STREAM --subject S}: the nats CLI is not installed here; the same look through jnats. */
        void natsView(ShellExample.Command c) {
            List<String> p = c.program();
            String stream = p.get(3);
            int at = p.indexOf("--subject");
            String subject = at > 0 ? p.get(at + 1) : null;
            await("a message on " + subject + " in " + stream).atMost(Duration.ofSeconds(30)).until(() -> {
                try (Connection nc = Nats.connect(nats.url())) {
                    StreamInfo info = nc.jetStreamManagement().getStreamInfo(stream, StreamInfoOptions.allSubjects());
                    return subject == null ? info.getStreamState().getMsgCount() > 0
                            : info.getStreamState().getSubjectMap().getOrDefault(subject, 0L) > 0;
                }
            });
        }

        /** The guides' subscriber program: compiled and run as its first line says, it writes the stream's envelopes to a file. */
        void runFileSink(ShellExample block) throws Exception {
            Matcher m = Pattern.compile("java -cp (\\S+\\.jar) (\\w+\\.java) (\\S+) (\\S+)").matcher(block.text().get(0));
            assertThat(m.find()).as("the subscriber's first line says how to run it").isTrue();
            String jarName = m.group(1);
            Path jnats = Stream.of(System.getProperty("java.class.path").split(java.io.File.pathSeparator)).map(Path::of)
                    .filter(j -> j.getFileName().toString().equals(jarName)).findFirst()
                    .orElseThrow(() -> new AssertionError(jarName + " is not the jnats jar the build uses"));
            Path work = Files.createDirectories(dir.resolve("filesink"));
            Files.copy(jnats, work.resolve(jarName), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.write(work.resolve(m.group(2)), block.text(), StandardCharsets.UTF_8);
            Path out = work.resolve(m.group(4));
            Files.deleteIfExists(out);
            ProcessBuilder b = new ProcessBuilder("java", "-cp", jarName, m.group(2), m.group(3), m.group(4)).directory(work.toFile())
                    .redirectErrorStream(true).redirectOutput(work.resolve("filesink.log").toFile());
            b.environment().put("NATS_URL", nats.url());
            Process p = b.start();
            try {
                sql("shop", "INSERT INTO audit_log (msg) VALUES ('for the file sink')");
                await("the subscriber wrote an envelope").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                        .until(() -> Files.exists(out) && !Files.readAllLines(out).isEmpty());
                EnvelopeCodec codec = new EnvelopeCodec();
                for (String line : Files.readAllLines(out)) {
                    assertThat(codec.decode(line.getBytes(StandardCharsets.UTF_8)).changes()).isNotEmpty();
                }
                fileSinkRan = true;
            } finally {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        }

        /** A block of SQL with {@code -- sink} and {@code -- source} sections, each run on its side. */
        void sqlSections(ShellExample block) throws SQLException {
            String db = null;
            for (String line : block.text()) {
                String t = line.trim();
                if (t.equals("-- sink")) {
                    db = "analytics";
                } else if (t.equals("-- source")) {
                    db = "shop";
                } else if (!t.isEmpty()) {
                    assertThat(db).as("a side before " + t).isNotNull();
                    sql(db, t);
                }
            }
        }

        void sql(String db, String sql) throws SQLException {
            try (java.sql.Connection c = pg.connect(db); Statement s = c.createStatement()) {
                s.execute(sql);
            }
        }

        long count(String db, String sql) throws SQLException {
            try (java.sql.Connection c = pg.connect(db); Statement s = c.createStatement(); var rs = s.executeQuery(sql)) {
                rs.next();
                return rs.getLong(1);
            }
        }

        long deadLetters() throws IOException, InterruptedException, JetStreamApiException {
            try (Connection nc = Nats.connect(nats.url())) {
                try {
                    return nc.jetStreamManagement().getStreamInfo("VRSKY_DLQ").getStreamState().getMsgCount();
                } catch (JetStreamApiException e) {
                    if (e.getApiErrorCode() == 10059) {
                        return 0;
                    }
                    throw e;
                }
            }
        }

        @Override
        public void close() {
            try {
                stopProducer();
                stopConsumer();
            } finally {
                if (producer != null) {
                    producer.close();
                }
                if (consumer != null) {
                    consumer.close();
                }
                nats.close();
            }
        }
    }
}
