package io.natgw.it.admin;

import io.natgw.it.support.Daemon;
import io.natgw.it.support.NatPmpProbe;
import io.natgw.it.support.Require;
import io.natgw.testsupport.Command;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The web UI in real headless Chromium against the real daemon: a NAT-PMP mapping (natpmpc) shows up in the
 * lease table without a reload, is deleted from the UI and is then gone from the table and free again for
 * NAT-PMP; a trigger rule added on the triggering page shows in {@code natgw triggers list}; byte counts of the
 * splice relay are marked approximate ("~"). Screenshots of each page go to {@code it/target/screenshots/}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AdminWebUiTest {

    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    static Daemon daemon;
    static ChromeDriverService service;
    static ChromeDriver browser;
    static Path profile;
    static InetAddress lan;
    static String signInUrl;
    static Path screenshots;

    @BeforeAll
    static void start() throws Exception {
        Require.tool("natpmpc");
        Require.check(Files.isExecutable(CHROMIUM), "chromium is not installed (Debian package chromium)");
        Require.check(Files.isExecutable(CHROMEDRIVER), "chromedriver is not installed (Debian package chromium-driver)");
        // a LAN address of its own, so natpmpc -g reaches this daemon and no other test's
        lan = InetAddress.getByName("127.0.0." + ThreadLocalRandom.current().nextInt(100, 250));
        daemon = Daemon.builder().set("network.lan.addresses", List.of(lan.getHostAddress())).set("upnp.enabled", false)
                .set("admin.port", freePort()).set("dataplane.relay", "splice").start();
        NatgwCli.Result ui = NatgwCli.process(daemon.configFile(), "ui");
        assertEquals(0, ui.exit(), ui.err());
        signInUrl = ui.out().trim();
        assertTrue(signInUrl.matches("https://127\\.0\\.0\\.1:\\d+/#token=[A-Za-z0-9_-]{43}"), signInUrl);

        screenshots = Files.createDirectories(Daemon.repo().resolve("it/target/screenshots"));
        profile = Files.createTempDirectory("natgw-chromium-");
        service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--user-data-dir=" + profile, "--window-size=1280,900");
        options.setAcceptInsecureCerts(true); // the gateway's self-signed identity
        browser = new ChromeDriver(service, options);
        browser.manage().timeouts().implicitlyWait(Duration.ZERO);
    }

    @AfterAll
    static void stop() throws IOException {
        if (browser != null) {
            browser.quit();
        }
        if (service != null) {
            service.stop();
        }
        if (daemon != null) {
            daemon.close();
        }
        if (profile != null) {
            try (var files = Files.walk(profile)) {
                files.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }

    @Test
    @Order(1)
    void aStaticMappingAddedWithTheFormIsListed() throws Exception {
        browser.get(signInUrl);
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                .until(() -> browser.findElement(By.id("live")).getText().equals("live"));
        assertTrue(!browser.getCurrentUrl().contains("token="), "the token is moved out of the address bar");
        WebElement form = browser.findElement(By.id("static-form"));
        form.findElement(By.name("externalPort")).sendKeys("70000");
        form.findElement(By.name("internalAddress")).sendKeys("127.0.0.20");
        form.findElement(By.cssSelector("button[type=submit]")).click();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> browser.findElement(By.id("static-error")).getText().contains("field: externalPort"));
        assertTrue(form.findElement(By.name("externalPort")).getDomAttribute("class").contains("invalid"));
        WebElement external = form.findElement(By.name("externalPort"));
        external.clear();
        external.sendKeys("8088");
        form.findElement(By.name("internalPort")).sendKeys("80");
        form.findElement(By.name("description")).sendKeys("NAS web UI");
        form.findElement(By.cssSelector("button[type=submit]")).click();
        WebElement tr = await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                .until(() -> browser.findElement(By.cssSelector("#leases tr[data-id='tcp/8088']")), e -> e.isDisplayed());
        assertEquals(List.of("127.0.0.20:80", "static", "admin", "NAS web UI", "never"),
                List.of(text(tr, 3), text(tr, 5), text(tr, 6), text(tr, 8), text(tr, 9)));
        shoot("leases-static");
        browser.manage().window().setSize(new Dimension(390, 844));
        shoot("leases-phone");
        browser.manage().window().setSize(new Dimension(1280, 900));

        tr.findElement(By.cssSelector("button.delete")).click();
        await().atMost(Duration.ofSeconds(30)).until(() -> browser.findElement(By.id("confirm")).isDisplayed());
        shoot("leases-confirm-delete");
        browser.findElement(By.id("confirm-cancel")).click();
        assertEquals(1, browser.findElements(By.cssSelector("#leases tr[data-id='tcp/8088']")).size(), "cancel keeps it");
        tr.findElement(By.cssSelector("button.delete")).click();
        await().atMost(Duration.ofSeconds(30)).until(() -> browser.findElement(By.id("confirm")).isDisplayed());
        browser.findElement(By.id("confirm-ok")).click();
        await().atMost(Duration.ofSeconds(10)).until(() -> browser.findElements(By.cssSelector("#leases tr[data-id='tcp/8088']")).isEmpty());
        NatgwCli.Result leases = NatgwCli.run(daemon.configFile(), "leases");
        assertTrue(leases.out().endsWith("0 mappings" + System.lineSeparator()), leases.out());
    }

    @Test
    @Order(2)
    void aNatPmpMappingAppearsLiveAndIsDeletedFromTheUi() throws Exception {
        browser.get(signInUrl.replaceAll("#.*", "") + "#leases");
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                .until(() -> browser.findElement(By.id("live")).getText().equals("live"));
        int port = ThreadLocalRandom.current().nextInt(20000, 30000);
        String row = "#leases tr[data-id='tcp/" + port + "']";

        Command.Result natpmpc = Command.run(Duration.ofSeconds(30),
                "natpmpc", "-g", lan.getHostAddress(), "-a", "" + port, "" + port, "tcp", "3600");
        assertEquals(0, natpmpc.exit(), natpmpc.toString());

        WebElement tr = await("the mapping to appear without a reload").atMost(Duration.ofSeconds(10)).ignoreExceptions()
                .until(() -> browser.findElement(By.cssSelector(row)), e -> e.isDisplayed());
        assertEquals(List.of("TCP", "127.0.1.1:" + port, "127.0.0.1:" + port, "dynamic", "nat-pmp"),
                List.of(text(tr, 1), text(tr, 2), text(tr, 3), text(tr, 5), text(tr, 6)));
        shoot("leases-nat-pmp");

        tr.findElement(By.cssSelector("button.delete")).click();
        await().atMost(Duration.ofSeconds(30)).until(() -> browser.findElement(By.id("confirm")).isDisplayed());
        browser.findElement(By.id("confirm-ok")).click();
        await("the row to go").atMost(Duration.ofSeconds(10)).until(() -> browser.findElements(By.cssSelector(row)).isEmpty());

        NatgwCli.Result leases = NatgwCli.run(daemon.configFile(), "leases");
        assertEquals(0, leases.exit(), leases.err());
        assertTrue(leases.out().lines().noneMatch(l -> l.contains(":" + port + " ")), leases.out());
        // NAT-PMP's view: the port is free again, so another host is granted exactly that port (not an alternative)
        NatPmpProbe.Reply other = NatPmpProbe.request(InetAddress.getByName("127.0.0.2"), lan, NatPmpProbe.mapTcp(port, port, 600));
        assertEquals("opcode 130 result 0 " + port + " -> " + port, "opcode " + other.opcode() + " result " + other.result() + " "
                + other.internalPort() + " -> " + other.externalPort(), other.toString());
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                .until(() -> browser.findElement(By.cssSelector(row)).getText().contains("127.0.0.2"));
        NatgwCli.Result unmap = NatgwCli.run(daemon.configFile(), "unmap", "--owner", "127.0.0.2");
        assertEquals(0, unmap.exit(), unmap.err());
    }

    @Test
    @Order(3)
    void aTriggerRuleAddedOnTheTriggeringPageShowsInTheCli() throws Exception {
        browser.get(signInUrl.replaceAll("#.*", "") + "#triggers");
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                .until(() -> browser.findElements(By.cssSelector("#triggers tbody tr")).size() == 1);
        WebElement form = browser.findElement(By.id("trigger-form"));
        form.findElement(By.name("name")).sendKeys("Game server");
        new org.openqa.selenium.support.ui.Select(form.findElement(By.name("triggerProtocol"))).selectByValue("udp");
        WebElement triggerPorts = form.findElement(By.name("triggerPorts"));
        triggerPorts.sendKeys("123-456-789");
        assertTrue(triggerPorts.getDomAttribute("class").contains("invalid"), "validated as you type");
        assertTrue(browser.findElement(By.id("trigger-error")).getText().contains("is not a port or a range"));
        shoot("triggers-invalid-range");
        triggerPorts.clear();
        triggerPorts.sendKeys("27015-27016,27030");
        assertTrue(!triggerPorts.getDomAttribute("class").contains("invalid"));
        new org.openqa.selenium.support.ui.Select(form.findElement(By.name("incomingProtocol"))).selectByValue("both");
        form.findElement(By.name("incomingPorts")).sendKeys("27000-27010");
        WebElement timeout = form.findElement(By.name("timeout"));
        timeout.clear();
        timeout.sendKeys("120");
        form.findElement(By.cssSelector("button[type=submit]")).click();
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                .until(() -> browser.findElement(By.cssSelector("#triggers tr[data-name='Game server']")).isDisplayed());
        shoot("triggers");

        NatgwCli.Result list = NatgwCli.process(daemon.configFile(), "triggers", "list");
        assertEquals(0, list.exit(), list.err());
        assertTrue(list.out().lines().anyMatch(l -> l.matches(
                "2\\s+Game server\\s+udp\\s+27015-27016,27030\\s+both\\s+27000-27010\\s+120\\s+enabled\\s+api")), list.out());

        // predefined services fill the form
        new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("predefined"))).selectByValue("IRC IDENT");
        assertEquals("6660-7000", form.findElement(By.name("triggerPorts")).getDomProperty("value"));
    }

    @Test
    @Order(4)
    void theStatusPanel() throws Exception {
        browser.get(signInUrl.replaceAll("#.*", "") + "#status");
        await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                .until(() -> browser.findElement(By.id("status")).getText().contains("127.0.1.1"));
        assertTrue(browser.findElement(By.id("listeners")).getText().contains("admin https"));
        shoot("status");
    }

    @Test
    @Order(5)
    void spliceCountedBytesAreMarkedApproximate() throws Exception {
        Require.check(daemon.log().contains(" splice relay,"), "the splice relay did not load here");
        try (ServerSocket host = new ServerSocket(0, 5, InetAddress.getByName("127.0.0.1"))) {
            int port = ThreadLocalRandom.current().nextInt(30000, 40000);
            NatgwCli.Result add = NatgwCli.run(daemon.configFile(), "map", "add", "tcp", "" + port, "127.0.0.1:" + host.getLocalPort());
            assertEquals(0, add.exit(), add.err());
            // 100 007 bytes to the LAN host: more than one 64 KiB splice chunk, and not a whole number of them
            java.util.concurrent.CompletableFuture<Integer> got = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try (java.net.Socket s = host.accept()) {
                    s.setSoTimeout(60_000);
                    return s.getInputStream().readAllBytes().length;
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            try (java.net.Socket outside = new java.net.Socket("127.0.1.1", port)) {
                outside.setSoTimeout(60_000);
                outside.getOutputStream().write(new byte[100_007]);
                outside.shutdownOutput();
                assertEquals(-1, outside.getInputStream().read());
            }
            assertEquals(100_007, got.get(60, java.util.concurrent.TimeUnit.SECONDS));

            String row = "#leases tr[data-id='tcp/" + port + "']";
            await("the row to show approximate bytes").atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
                browser.get(signInUrl.replaceAll("#.*", "") + "#leases");
                return text(browser.findElement(By.cssSelector(row)), 11).startsWith("~");
            });
            WebElement rx = browser.findElement(By.cssSelector(row + " td:nth-child(11)"));
            assertTrue(rx.getText().matches("~\\d+(\\.\\d)? k?B"), rx.getText());
            assertTrue(rx.getDomAttribute("title").contains("approximate: may be short by up to 65.5 kB"), rx.getDomAttribute("title"));
            shoot("leases-approximate");

            browser.get(signInUrl.replaceAll("#.*", "") + "#status");
            await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                    .until(() -> browser.findElement(By.id("status")).getText().contains("approximate"));
            assertTrue(browser.findElement(By.id("status")).getText().contains("~"), browser.findElement(By.id("status")).getText());
            NatgwCli.Result unmap = NatgwCli.run(daemon.configFile(), "map", "delete", "tcp", "" + port);
            assertEquals(0, unmap.exit(), unmap.err());
        }
    }

    private static String text(WebElement tr, int column) {
        return tr.findElement(By.cssSelector("td:nth-child(" + column + ")")).getText();
    }

    private static void shoot(String name) throws IOException {
        File png = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Files.copy(png.toPath(), screenshots.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
