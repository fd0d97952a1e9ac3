package io.vrsky.pipeline.docs;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The package map of docs/DATABASE_COMPONENTS_ARCHITECTURE.md ({@code ## Package map}: a table whose
 * first column is a package name in backticks) lists exactly the packages of main code of every
 * module ({@code <module>/src/main/java}). A package added, moved or removed without the map fails here.
 */
class PackageMapTest {

    private static final String DOC = "docs/DATABASE_COMPONENTS_ARCHITECTURE.md";
    private static final String SECTION = "## Package map";
    private static final Pattern ROW = Pattern.compile("^\\|\\s*`([A-Za-z0-9_.]+)`\\s*\\|");

    @Test
    void shouldListExactlyThePackagesOfMainCode() throws IOException {
        Path root = projectRoot();
        Set<String> documented = documentedPackages(Files.readAllLines(root.resolve(DOC), StandardCharsets.UTF_8));
        Set<String> actual = mainPackages(root);

        assertThat(actual).as("packages under */src/main/java").isNotEmpty();
        Set<String> missing = new TreeSet<>(actual);
        missing.removeAll(documented);
        Set<String> extra = new TreeSet<>(documented);
        extra.removeAll(actual);
        String both = String.format("the '%s' table of %s: missing %s; listed but not under any src/main/java %s",
                SECTION, DOC, missing, extra);
        assertThat(missing).as(both).isEmpty();
        assertThat(extra).as(both).isEmpty();
    }

    @Test
    void shouldReadOnlyTheRowsOfThePackageMapSection() {
        List<String> doc = List.of("# Title", "| `io.example.before` | x |", SECTION, "", "| package | module |", "|---|---|",
                "| `io.example.a` | m | what |", "|`io.example.b`|m|", "text `io.example.c` in prose", "## Next",
                "| `io.example.after` | x |");

        assertThat(documentedPackages(doc)).containsExactly("io.example.a", "io.example.b");
    }

    /** The package names in the first column of the table of the package-map section. */
    static Set<String> documentedPackages(List<String> lines) {
        Set<String> packages = new TreeSet<>();
        boolean inSection = false;
        for (String line : lines) {
            if (line.startsWith("## ")) {
                inSection = line.strip().equals(SECTION);
                continue;
            }
            Matcher m = ROW.matcher(line.strip());
            if (inSection && m.find()) {
                packages.add(m.group(1));
            }
        }
        return packages;
    }

    /** Every directory holding a .java file under a module's src/main/java, as a package name. */
    private static Set<String> mainPackages(Path root) throws IOException {
        Set<String> packages = new TreeSet<>();
        try (Stream<Path> modules = Files.list(root)) {
            for (Path sources : modules.filter(m -> Files.isRegularFile(m.resolve("pom.xml")))
                    .map(m -> m.resolve("src/main/java")).filter(Files::isDirectory).toList()) {
                try (Stream<Path> files = Files.walk(sources)) {
                    files.filter(f -> f.getFileName().toString().endsWith(".java"))
                            .map(f -> sources.relativize(f.getParent()).toString().replace(f.getFileSystem().getSeparator(), "."))
                            .filter(p -> !p.isEmpty())
                            .forEach(packages::add);
                }
            }
        }
        return packages;
    }

    private static Path projectRoot() {
        Path dir = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve(DOC))) {
                return p;
            }
        }
        throw new UncheckedIOException(new IOException(DOC + " not found above " + dir));
    }
}
