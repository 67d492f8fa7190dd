package io.natgw.igd;

import io.natgw.conf.NatgwConfig;
import io.natgw.core.MappingTable;
import io.natgw.core.TrafficStats;
import org.jupnp.model.ValidationException;
import org.jupnp.model.meta.DeviceDetails;
import org.jupnp.model.meta.DeviceIdentity;
import org.jupnp.model.meta.LocalDevice;
import org.jupnp.model.meta.LocalService;
import org.jupnp.model.meta.ManufacturerDetails;
import org.jupnp.model.meta.ModelDetails;
import org.jupnp.model.types.UDADeviceType;
import org.jupnp.model.types.UDN;

import java.util.ArrayList;
import java.util.List;

/**
 * The two device trees that serve one table: InternetGatewayDevice:1 → WANDevice:1 → WANConnectionDevice:1
 * → WANIPConnection:1, and the same at version 2 with WANIPConnection:2. Each root has Layer3Forwarding:1 and
 * each WANDevice WANCommonInterfaceConfig:1; the IGD:2 WANConnectionDevice also has WANIPv6FirewallControl:1 (IPv6
 * pinholes, as the IGD:2 spec places it). Two jupnp root devices with their own UDNs and descriptions are
 * the simplest faithful way to serve both views: every client reads an ordinary single-version IGD.
 */
@SuppressWarnings({"rawtypes", "unchecked"}) // jupnp's model and transport APIs are raw-typed
final class IgdDevices {

    /** One IGD tree: its root and the WANIPConnection service events are sent from. */
    record Tree(int version, LocalDevice root, LocalService<?> wanIpConnection, List<LocalService<?>> services) {
    }

    /** Part of CONFIGID.UPNP.ORG: raise it when a change in code changes what the descriptions say. */
    static final String DESCRIPTION_VERSION = "1";

    private IgdDevices() {
    }

    /** @param firewall the IPv6 firewall service of the IGD:2 tree; null for IGD:1 */
    static Tree build(int version, String friendlyName, IgdIdentity identity, NatgwConfig.Network network,
                      MappingTable table, TrafficStats traffic, WanIpv6FirewallControl firewall) throws ValidationException {
        UDN rootUdn = new UDN(identity.udn(version, "InternetGatewayDevice"));
        UDN wanUdn = new UDN(identity.udn(version, "WANDevice"));
        UDN connUdn = new UDN(identity.udn(version, "WANConnectionDevice"));

        LocalService<Object> wanIp = new WanIpConnection(table, network, version).spec().build();
        LocalService<Object> common = OtherServices.commonInterfaceConfig(traffic).build();
        LocalService<Object> l3f = OtherServices.layer3Forwarding(
                () -> connUdn + ":WANConnectionDevice:" + version + ",urn:upnp-org:serviceId:WANIPConn1").build();

        LocalService<Object> v6 = firewall == null ? null : firewall.spec().build();
        LocalDevice conn = new LocalDevice(new DeviceIdentity(connUdn, 1800),
                new UDADeviceType("WANConnectionDevice", version), details("WANConnectionDevice", friendlyName, identity),
                v6 == null ? new LocalService[] {wanIp} : new LocalService[] {wanIp, v6});
        LocalDevice wan = new LocalDevice(new DeviceIdentity(wanUdn, 1800),
                new UDADeviceType("WANDevice", version), details("WANDevice", friendlyName, identity),
                new LocalService[] {common}, new LocalDevice[] {conn});
        LocalDevice root = new LocalDevice(new DeviceIdentity(rootUdn, 1800),
                new UDADeviceType("InternetGatewayDevice", version), details("InternetGatewayDevice", friendlyName, identity),
                new LocalService[] {l3f}, new LocalDevice[] {wan});
        List<LocalService<?>> all = new ArrayList<>(List.of(l3f, common, wanIp));
        if (v6 != null) {
            all.add(v6);
        }
        return new Tree(version, root, wanIp, all);
    }

    /** The configured strings; the model name says which device of the tree it is; presentationURL on every device. */
    private static DeviceDetails details(String model, String friendlyName, IgdIdentity identity) {
        return new DeviceDetails(null, friendlyName, new ManufacturerDetails(identity.manufacturer(), "https://natgw.io/"),
                new ModelDetails(identity.modelName() + " " + model, "natgw port-mapping gateway", "1"),
                identity.serialNumber(), null, identity.presentation());
    }
}
