"""Authored fault scenarios of 18 kinds of industrial machines (English tickets).

Each scenario is one recurring fault: several ways an operator reports it and a range of repair
hours, then its stories: the k-th entries of ``found``, ``work`` and ``cause`` belong together (what
the technician found, what was done, the root cause). ``make_tickets.py`` draws tickets
from them. Placeholders in the text:

- ``{name:lo-hi}`` a number drawn in [lo, hi] with as many decimals as ``lo`` has; ``{name}`` later
  in the same ticket repeats it;
- ``{name=a|b|c}`` one of the choices; ``{name}`` repeats it.

Sentences of ``work`` end with a full stop followed by a space, so they split into numbered steps.
"""

from __future__ import annotations

SCENARIOS: list[dict] = [
    # ------------------------------------------------------------------------------------ CNC lathe
    {
        "machine": "CNC lathe",
        "hours": (4.0, 8.0),
        "problem": [
            "Chatter marks on turned shafts above {rpm:2200-2800} rpm, surface finish out of tolerance.",
            "Spindle vibrates and whines at high speed; operator reduced speed to keep finish in spec.",
            "Poor surface finish on finishing passes, Ra {ra_bad:1.8-3.2} um measured where 0.8 is required.",
        ],
        "found": [
            "Radial runout at the spindle nose {runout:0.012-0.030} mm (limit 0.005 mm). Rough noise from "
            "the "
            "front bearing when turned by hand.",
            "Front spindle bearing running hot ({temp:58-71} C after 20 min) with audible rumble; runout "
            "{runout:0.012-0.030} mm.",
        ],
        "work": [
            "Removed the spindle cartridge. Replaced the front angular contact bearing set. Set the preload "
            "with the spacer kit and checked it with the torque method. Ran the spindle warm-up program for "
            "30 min. Test cut on a sample shaft, Ra {ra_ok:0.4-0.7} um.",
            "Replaced front and rear spindle bearings. Cleaned the labyrinth seal and fitted a new O-ring. "
            "Checked runout after assembly, 0.003 mm. Ran the spindle in for 40 min at stepped speeds. "
            "Released the machine after a test part was measured in spec.",
        ],
        "cause": [
            "Worn front spindle bearings; grease life exceeded after about {kh:18-26} thousand running "
            "hours.",
            "Bearing fatigue accelerated by coolant ingress through a hardened labyrinth seal.",
        ],
    },
    {
        "machine": "CNC lathe",
        "hours": (0.75, 2.5),
        "problem": [
            "Alarm 'turret not clamped' after every tool change, cycle stops.",
            "Turret indexes to the next station but the control waits and then gives a clamp alarm.",
            "Intermittent turret clamp alarm, machine stopped {n:3-6} times this shift.",
        ],
        "found": [
            "Turret clamp proximity switch covered in chips and coolant sludge; switch gap {gap:1.8-2.6} mm "
            "(nominal 0.8 mm).",
            "Clamp confirm switch bracket loose, switch signal flickering when the turret clamps.",
        ],
        "work": [
            "Cleaned the clamp switch and its target. Reset the switch gap to 0.8 mm and tightened the "
            "bracket. Indexed the turret through all 12 stations {cycles:20-40} times without an alarm.",
            "Removed chips from the turret housing. Replaced the proximity switch with a new one of the same "
            "type. Adjusted the gap and checked the input LED on the I/O module. Ran the tool change test "
            "cycle.",
        ],
        "cause": [
            "Chip build-up behind the turret cover pushed the switch bracket out of position.",
            "Loose switch bracket; the fixing screw had no thread locker.",
        ],
    },
    {
        "machine": "CNC lathe",
        "hours": (1.5, 4.0),
        "problem": [
            "Parts slipping in the chuck during roughing, clamping seems weak.",
            "Chuck pressure gauge drops to {p_low:12-18} bar during the cycle, alarm 'chuck pressure low'.",
            "Workpiece moved in the jaws on a heavy cut, part scrapped.",
        ],
        "found": [
            "Chuck clamping pressure {p_low:12-18} bar, setpoint 25 bar. Oil seeping from the rotary "
            "cylinder "
            "drain line.",
            "Pressure reducing valve for the chuck drifted to {p_low:12-18} bar. Jaws dry and full of fine "
            "chips.",
        ],
        "work": [
            "Replaced the seal kit of the rotary chuck cylinder. Reset the pressure reducing valve to 25 "
            "bar. "
            "Cleaned and greased the jaws and the master jaw slots. Checked the clamping force with a force "
            "gauge, {kn:38-44} kN.",
            "Cleaned and readjusted the chuck pressure valve. Removed the jaws, cleaned the serrations and "
            "greased them with chuck paste. Tested clamping on a test bar at full speed.",
        ],
        "cause": [
            "Worn piston seal in the rotary cylinder leaking oil past the piston.",
            "Valve setting drifted and the jaws were not greased at the weekly interval.",
        ],
    },
    {
        "machine": "CNC lathe",
        "hours": (1.0, 3.0),
        "problem": [
            "No coolant at the tool, pump runs but flow is only a trickle.",
            "Coolant pump trips its overload a few minutes after start.",
            "Coolant flow weak on all turret stations, tools burning.",
        ],
        "found": [
            "Suction strainer of the coolant pump blocked with fine chips; tank sludge about {cm:8-15} cm "
            "deep.",
            "Pump motor current {amp:4.2-5.1} A against 3.1 A rated; impeller jammed with chips.",
        ],
        "work": [
            "Pumped out the coolant tank and removed the sludge. Cleaned the suction strainer and the chip "
            "basket. Refilled with fresh coolant at {conc:6-8}% concentration. Checked the flow at the "
            "turret.",
            "Dismantled the coolant pump and removed chips from the impeller. Replaced the shaft seal. Reset "
            "the motor overload and measured the running current, 2.9 A. Cleaned the chip basket.",
        ],
        "cause": [
            "Chip basket not emptied; fine chips passed into the tank and blocked the suction.",
            "Missing chip screen on the return channel let chips reach the pump.",
        ],
    },
    {
        "machine": "CNC lathe",
        "hours": (2.0, 5.0),
        "problem": [
            "Diameters grow by {drift:0.02-0.05} mm over the first hour of running, operator keeps adjusting "
            "offsets.",
            "X-axis diameters inconsistent, some parts oversize by a few hundredths.",
        ],
        "found": [
            "X-axis backlash {bl:0.015-0.030} mm measured with a dial indicator. Ballscrew support bearing "
            "nut loose.",
            "Backlash in X {bl:0.015-0.030} mm; gib of the cross slide worn and loose.",
        ],
        "work": [
            "Tightened and locked the ballscrew support bearing nut. Measured backlash again, 0.004 mm. "
            "Updated the backlash compensation parameter. Turned test diameters over 2 h, within 0.005 mm.",
            "Adjusted the cross slide gib. Checked the ballscrew for play and lubricated it. Entered the new "
            "backlash value in the control. Ran a warm-up program and checked parts every 20 min.",
        ],
        "cause": [
            "Support bearing lock nut had worked loose.",
            "Gib wear and missing backlash compensation after the last control battery change.",
        ],
    },
    # ------------------------------------------------------------------------- CNC machining centre
    {
        "machine": "CNC machining centre",
        "hours": (1.5, 4.0),
        "problem": [
            "Tool changer arm drops the tool during exchange, tool fell into the chip conveyor.",
            "ATC fault during tool change, arm stopped halfway with a tool in the gripper.",
            "Tools not held firmly in the changer arm, loud knock at every exchange.",
        ],
        "found": [
            "Gripper spring on one side of the ATC arm broken; locking plunger sticking.",
            "Arm gripper fingers worn, plunger does not lock. Pull stud of tool T{tool:11-40} also worn.",
        ],
        "work": [
            "Replaced both gripper springs and the locking plunger on the ATC arm. Checked the arm position "
            "at the spindle and the magazine. Ran {cycles:50-100} tool changes with the heaviest tools.",
            "Replaced the gripper fingers and springs. Replaced the worn pull stud. Measured the drawbar "
            "clamping force, {kn:17-19} kN, in spec. Ran the tool change test program.",
        ],
        "cause": [
            "Spring fatigue in the ATC gripper after years of service.",
            "Worn gripper fingers and a worn pull stud reduced the hold on the tool.",
        ],
    },
    {
        "machine": "CNC machining centre",
        "hours": (1.0, 3.0),
        "problem": [
            "Spindle overheat alarm after about {mins:40-90} minutes of machining.",
            "Spindle temperature alarm on long jobs, machine stops mid cycle.",
        ],
        "found": [
            "Spindle oil chiller tank low; chiller air filter clogged with dust.",
            "Chiller running but return oil at {temp:34-39} C; condenser fins blocked with oil mist and "
            "dust.",
        ],
        "work": [
            "Topped up the spindle chiller with the specified oil. Cleaned the chiller air filter and blew "
            "out the condenser. Ran the spindle at 10000 rpm for 1 h and monitored the temperature, stable "
            "at 24 C.",
            "Cleaned the condenser fins with degreaser and compressed air. Replaced the chiller air filter. "
            "Checked the oil flow switch. Verified the temperature difference between spindle and bed.",
        ],
        "cause": [
            "Chiller filter not included in the preventive maintenance plan.",
            "Oil mist from machining clogged the chiller condenser.",
        ],
    },
    {
        "machine": "CNC machining centre",
        "hours": (1.0, 3.5),
        "problem": [
            "Way lube pressure low alarm, cycle start blocked.",
            "Alarm for slideway lubrication comes on every morning, tank is full.",
            "Y axis ways look dry, lube alarm after a few cycles.",
        ],
        "found": [
            "Lube line to the Y-axis ways broken at the cable carrier; oil leaking into the chip tray.",
            "Metering units on the Y axis blocked; pump pressure only {bar:8-11} bar at the gauge.",
        ],
        "work": [
            "Replaced the broken lube line and its fittings at the cable carrier. Bled the system and ran "
            "{n:5-8} manual lube cycles. Checked that oil reaches every way block.",
            "Replaced the blocked metering units. Cleaned the pump suction filter. Bled the lines and "
            "confirmed the pressure switch closes. Moved all axes over full travel.",
        ],
        "cause": [
            "Lube line rubbed through on the cable carrier edge.",
            "Contaminated oil used at the last top-up blocked the metering units.",
        ],
    },
    {
        "machine": "CNC machining centre",
        "hours": (2.0, 6.0),
        "problem": [
            "Z axis servo overload alarm, head stops when moving down.",
            "Z axis moves with a grinding sound and then gives a servo alarm.",
        ],
        "found": [
            "Z axis motor brake not releasing fully; brake voltage {v:17-20} V instead of 24 V.",
            "Encoder cable of the Z motor damaged in the cable carrier; signal drops out.",
        ],
        "work": [
            "Traced the brake supply and found a loose terminal at the brake relay. Replaced the relay and "
            "tightened the terminals. Measured 24 V at the brake. Ran the axis at full feed with no alarm.",
            "Replaced the Z axis encoder cable. Rerouted it in the cable carrier with a new strain relief. "
            "Referenced the axis and checked the position against the scale.",
        ],
        "cause": [
            "Loose terminal at the brake relay gave low brake voltage.",
            "Cable fatigue from wrong routing in the cable carrier.",
        ],
    },
    {
        "machine": "CNC machining centre",
        "hours": (1.0, 2.5),
        "problem": [
            "Tool does not release from the spindle, 'unclamp not confirmed' alarm.",
            "Spindle holds the tool after M06, ATC waits and times out.",
        ],
        "found": [
            "Air pressure at the unclamp cylinder {bar:4.2-4.8} bar, needs 6 bar. Air leaking at the "
            "cylinder seal.",
            "Unclamp cylinder slow; air filter regulator bowl full of water.",
        ],
        "work": [
            "Replaced the seals of the unclamp cylinder. Drained and cleaned the filter regulator. Set the "
            "supply to 6 bar. Tested tool release {n:20-40} times.",
            "Drained the air filter and replaced its element. Checked the automatic drain. Lubricated the "
            "cylinder and tested the tool change.",
        ],
        "cause": [
            "Worn seals in the unclamp cylinder losing air.",
            "Water in the compressed air from a failed automatic drain.",
        ],
    },
    # --------------------------------------------------------------------------------- hydraulic press
    {
        "machine": "hydraulic press",
        "hours": (3.0, 7.0),
        "problem": [
            "Ram drifts down {mm:5-15} mm per minute when stopped at top, safety concern.",
            "Slide creeps down during tool change even with the pump off.",
            "Ram will not hold position, sinks slowly after the stroke.",
        ],
        "found": [
            "Counterbalance valve leaking internally; cylinder pressure drops from 40 to {bar:5-12} bar in "
            "two minutes.",
            "Main cylinder piston seal bypassing; rod side warms up when the ram is held.",
        ],
        "work": [
            "Locked out the press and blocked the slide with safety blocks. Replaced the counterbalance "
            "valve cartridge. Set the counterbalance pressure to spec. Measured the drift over 10 min, none "
            "found.",
            "Locked out and blocked the slide. Removed the main cylinder and replaced the piston seal set. "
            "Refitted and bled the cylinder. Checked drift over 15 min and ran 50 strokes.",
        ],
        "cause": [
            "Contaminated oil scored the seat of the counterbalance valve.",
            "Piston seal worn after about {kh:6-9} thousand hours.",
        ],
    },
    {
        "machine": "hydraulic press",
        "hours": (1.5, 4.0),
        "problem": [
            "Hydraulic oil temperature alarm at {temp:62-68} C in the afternoon.",
            "Press slows down and oil smells hot after a few hours of production.",
        ],
        "found": [
            "Oil cooler fins packed with dust; cooler fan motor not running.",
            "Relief valve set too low, pump dumping over relief on every stroke and heating the oil.",
        ],
        "work": [
            "Cleaned the oil cooler with compressed air and degreaser. Replaced the failed fan motor "
            "capacitor. Checked the fan direction and current. Oil stable at 48 C after 3 h of production.",
            "Reset the main relief valve to the rated pressure with a test gauge. Checked the pressure "
            "switch settings. Monitored oil temperature for one shift.",
        ],
        "cause": [
            "Failed fan capacitor and a dirty cooler.",
            "Relief valve adjusted down by someone during a tool trial and never reset.",
        ],
    },
    {
        "machine": "hydraulic press",
        "hours": (2.0, 6.0),
        "problem": [
            "Press does not reach the set tonnage, parts not fully formed.",
            "Pressure stops at {bar:150-180} bar, setpoint 210 bar.",
        ],
        "found": [
            "Pump case drain flow high; pump worn. Suction filter partly blocked.",
            "Relief valve poppet stuck slightly open with debris.",
        ],
        "work": [
            "Replaced the suction filter element. Measured the case drain flow, {lpm:6-9} l/min, too high. "
            "Replaced the pump with a reconditioned unit. Flushed and refilled the tank. Checked full "
            "tonnage with the load cell.",
            "Dismantled and cleaned the relief valve. Replaced the poppet and seat. Flushed the valve block. "
            "Set the pressure and confirmed the tonnage on a test part.",
        ],
        "cause": [
            "Pump wear accelerated by a blocked suction filter (cavitation).",
            "Debris from a failed hose entered the relief valve.",
        ],
    },
    {
        "machine": "hydraulic press",
        "hours": (0.5, 2.0),
        "problem": [
            "Light curtain fault, press will not start a cycle.",
            "Safety light curtain shows red with nothing in the field.",
            "Cycle stops randomly, light curtain LED flashes.",
        ],
        "found": [
            "Receiver lens covered with oil mist; alignment indicator shows only {n:2-3} beams received.",
            "Light curtain cable connector loose and corroded at the receiver.",
        ],
        "work": [
            "Cleaned both lenses with a soft cloth and lens cleaner. Realigned transmitter and receiver "
            "until all beams were green. Did the stopping time test with the test rod.",
            "Replaced the receiver connector and cable. Checked alignment and the muting function. Performed "
            "the daily safety check with the test rod and recorded it.",
        ],
        "cause": [
            "Oil mist from the lubrication system settling on the lenses.",
            "Cable strain at the receiver from the guard door hinge.",
        ],
    },
    {
        "machine": "hydraulic press",
        "hours": (1.0, 3.0),
        "problem": [
            "Oil leak under the press, puddle at the back left corner.",
            "Hose on the cylinder is sweating oil and dripping.",
        ],
        "found": [
            "High pressure hose to the cylinder chafed through its outer layer at a clamp; weeping at the "
            "crimp.",
            "Fitting on the pressure line loose; O-ring flattened.",
        ],
        "work": [
            "Depressurised the system and locked out. Replaced the hose with one of the same rating and "
            "length. Fitted a new clamp with a rubber insert. Cleaned up the oil and checked for leaks at "
            "full pressure.",
            "Replaced the O-ring and retightened the fitting to torque. Cleaned the area and spread "
            "absorbent. "
            "Checked for leaks after 20 strokes.",
        ],
        "cause": [
            "Hose rubbing on the frame at a missing clamp.",
            "Fitting loosened by vibration; O-ring past its life.",
        ],
    },
    # ------------------------------------------------------------------ injection moulding machine
    {
        "machine": "injection moulding machine",
        "hours": (1.0, 3.0),
        "problem": [
            "Short shots on the {cav=left|right} cavities, parts incomplete.",
            "Parts not filled at the end of flow, started after the night shift.",
            "Incomplete parts and sink marks, process unchanged.",
        ],
        "found": [
            "Barrel heater zone 3 reading {temp:195-210} C against 240 C set; heater band open circuit.",
            "Zone 3 thermocouple loose in its well, reading high, so the heater was switched off early.",
        ],
        "work": [
            "Replaced the zone 3 heater band. Checked the resistance of all bands. Let the barrel soak for "
            "20 min. Ran {n:10-20} shots and checked part weight.",
            "Refitted the thermocouple with a new clamp and checked it against a reference probe. Checked "
            "heater currents on all zones. Production restarted with full parts.",
        ],
        "cause": [
            "Heater band failure (burnt element).",
            "Thermocouple not seated in its well after the last barrel cleaning.",
        ],
    },
    {
        "machine": "injection moulding machine",
        "hours": (2.0, 6.0),
        "problem": [
            "Flash on the parting line of the parts, quality rejected the batch.",
            "Parts come out with thin flash around the edge, getting worse.",
        ],
        "found": [
            "Clamp force reading {t:180-210} t against 250 t set; tie bar nut on the operator side loose.",
            "Parting line of the mould damaged near cavity {cav:2-4}; clamp force normal.",
        ],
        "work": [
            "Checked the tie bar lengths with strain gauges. Re-tightened the tie bar nut and adjusted the "
            "mould height. Confirmed 250 t on all four tie bars. Ran parts and checked for flash.",
            "Pulled the mould and sent it to the toolroom for repair of the parting line. Installed the "
            "spare "
            "mould. Checked clamp force and parallelism of the platens.",
        ],
        "cause": [
            "Tie bar nut worked loose and the clamp force became uneven.",
            "Parting line damaged by a part left in the mould.",
        ],
    },
    {
        "machine": "injection moulding machine",
        "hours": (3.0, 8.0),
        "problem": [
            "Screw recovery time went from 6 to {s:10-14} seconds, cycle time up.",
            "Dosing takes too long and the shot size varies.",
        ],
        "found": [
            "Check ring on the screw tip worn; cushion not stable and drops to zero.",
            "Material bridging in the feed throat; feed throat cooling water valve closed.",
        ],
        "work": [
            "Purged and pulled the screw. Replaced the check ring and the seat. Measured screw and barrel "
            "wear, within limits. Reassembled and ran shots with a stable cushion.",
            "Opened the feed throat cooling water valve and cleaned the throat. Set the water flow. Checked "
            "the dryer. Recovery time back to 6 s.",
        ],
        "cause": [
            "Check ring wear from abrasive glass-filled material.",
            "Feed throat cooling valve left closed after maintenance.",
        ],
    },
    {
        "machine": "injection moulding machine",
        "hours": (0.75, 2.5),
        "problem": [
            "Ejector pins sticking, parts hang on the core.",
            "Ejection noisy and parts deformed when pushed out.",
        ],
        "found": [
            "Ejector pin {pin:3-8} bent and galling in its bore; ejector plate dry.",
            "Ejector rod coupling loose; plate moving unevenly.",
        ],
        "work": [
            "Removed the ejector half of the mould. Replaced the bent ejector pin. Cleaned and lubricated "
            "the pins with high temperature grease. Checked ejector stroke settings.",
            "Tightened the ejector rod coupling and locked it. Lubricated the ejector plate guides. Ran the "
            "ejector in manual to check smooth travel.",
        ],
        "cause": [
            "Missing lubrication of the ejector system.",
            "Coupling not locked after the last mould change.",
        ],
    },
    {
        "machine": "injection moulding machine",
        "hours": (0.5, 1.5),
        "problem": [
            "Nozzle drooling and stringing between shots.",
            "Plastic leaking around the nozzle tip, material burning on the sprue bushing.",
        ],
        "found": [
            "Nozzle tip loose; plastic behind the thread.",
            "Nozzle temperature set {temp:15-25} C too high after a material change.",
        ],
        "work": [
            "Heated the nozzle and removed the tip. Cleaned the threads and the seat. Fitted a new tip with "
            "anti-seize and tightened at temperature. Checked nozzle contact force.",
            "Lowered the nozzle temperature to the material data sheet value. Enabled decompression after "
            "dosing. Cleaned the sprue bushing.",
        ],
        "cause": [
            "Nozzle tip not tightened at operating temperature.",
            "Wrong nozzle temperature in the recipe.",
        ],
    },
    # --------------------------------------------------------------------------------- air compressor
    {
        "machine": "screw air compressor",
        "hours": (1.5, 4.0),
        "problem": [
            "Compressor trips on high discharge temperature in the afternoon.",
            "Compressor shut down with 'element temperature high', {temp:108-114} C on display.",
            "Repeated temperature trips since the weather got warm.",
        ],
        "found": [
            "Oil cooler blocked with dust on the air side; compressor room at {room:36-41} C.",
            "Thermostatic valve stuck in the bypass position; oil not going through the cooler.",
        ],
        "work": [
            "Cleaned the oil cooler with compressed air from the inside out. Cleaned the room ventilation "
            "grille. Checked the oil level and topped up. Ran under load for 2 h, temperature 86 C.",
            "Replaced the thermostatic valve element. Changed the oil and oil filter. Checked the cooling "
            "fan. Temperature stable under full load.",
        ],
        "cause": [
            "Cooler not cleaned at the service interval; dusty room air.",
            "Thermostatic valve element failed.",
        ],
    },
    {
        "machine": "screw air compressor",
        "hours": (1.0, 4.0),
        "problem": [
            "Network pressure low, tools in the assembly area not working.",
            "Compressor runs loaded all the time but pressure stays at {bar:5.2-5.8} bar.",
        ],
        "found": [
            "Inlet valve not opening fully; air filter heavily blocked.",
            "Several leaks on the distribution line; ultrasonic detector found {n:6-14} leaks.",
        ],
        "work": [
            "Replaced the air intake filter. Cleaned and lubricated the inlet valve and replaced its seal "
            "kit. "
            "Checked loading and unloading pressures. Pressure back to 7 bar.",
            "Repaired the worst leaks at quick couplings and a cracked FRL bowl. Tagged the remaining leaks "
            "for "
            "the next stop. Checked the pressure at the end of the line.",
        ],
        "cause": [
            "Blocked air intake filter and a sticky inlet valve.",
            "Air leaks in the distribution network.",
        ],
    },
    {
        "machine": "screw air compressor",
        "hours": (2.0, 4.0),
        "problem": [
            "Oil in the compressed air, painting line reports oil spots.",
            "Oil carry-over, filters downstream soaked with oil.",
        ],
        "found": [
            "Separator element differential pressure {dp:0.9-1.3} bar; element ruptured.",
            "Scavenge line orifice blocked, oil collecting in the separator.",
        ],
        "work": [
            "Replaced the oil separator element and its gasket. Cleaned the scavenge line and orifice. "
            "Replaced the downstream coalescing filter elements. Checked oil level after 1 h of running.",
            "Cleaned the scavenge line and orifice. Replaced the separator element. Drained oil from the air "
            "receiver and the filters.",
        ],
        "cause": [
            "Separator element past its service life.",
            "Blocked scavenge orifice let oil build up in the separator.",
        ],
    },
    {
        "machine": "screw air compressor",
        "hours": (1.0, 3.0),
        "problem": [
            "Compressor trips the motor overload when starting.",
            "Compressor won't start, breaker trips after a few seconds.",
        ],
        "found": [
            "Star contactor contacts burnt; motor stays in star too long and draws high current.",
            "Star-delta timer set to {s:15-20} s instead of 8 s.",
        ],
        "work": [
            "Replaced the star contactor. Checked the other contactors for wear. Measured the start current "
            "with a clamp meter. Ran ten start cycles.",
            "Set the star-delta timer to 8 s. Checked the motor insulation resistance. Checked the start "
            "sequence and current.",
        ],
        "cause": [
            "Contactor wear from frequent starts.",
            "Timer changed by mistake during a panel check.",
        ],
    },
    {
        "machine": "screw air compressor",
        "hours": (0.5, 1.5),
        "problem": [
            "Water coming out of the air tools.",
            "Condensate drain on the receiver not discharging.",
        ],
        "found": [
            "Solenoid drain valve blocked with sludge; timer working.",
            "Drain strainer blocked and the drain pipe frozen at the outside wall.",
        ],
        "work": [
            "Cleaned the solenoid drain valve and strainer. Tested the drain with the test button. Drained "
            "the "
            "receiver and checked the dryer dew point.",
            "Cleared the strainer. Insulated the drain pipe and fitted trace heating. Drained the receiver.",
        ],
        "cause": [
            "Sludge in the condensate.",
            "Drain line exposed to frost.",
        ],
    },
    # ------------------------------------------------------------------------------------ conveyor
    {
        "machine": "belt conveyor",
        "hours": (1.0, 3.0),
        "problem": [
            "Belt running off to the {side=left|right} side and rubbing the frame.",
            "Conveyor belt tracking badly, edge getting frayed.",
            "Belt wanders at the tail end, spillage on the floor.",
        ],
        "found": [
            "Return idlers out of square by several mm; material build-up on the tail pulley.",
            "Tail pulley covered in caked product; belt scraper worn out.",
        ],
        "work": [
            "Cleaned the tail pulley. Squared the return idlers to the belt line. Adjusted the tail take-up "
            "evenly on both sides. Ran the belt for 30 min and checked tracking under load.",
            "Scraped and washed the tail pulley. Replaced the scraper blade and set its pressure. Trained "
            "the "
            "belt with the snub pulley. Checked tracking over {n:10-20} revolutions.",
        ],
        "cause": [
            "Build-up on the tail pulley changed its effective diameter.",
            "Worn scraper let product stick to the pulley.",
        ],
    },
    {
        "machine": "belt conveyor",
        "hours": (2.0, 6.0),
        "problem": [
            "Belt slipping on the drive pulley at start-up with a full load.",
            "Drive pulley turns but belt stalls, burning rubber smell.",
        ],
        "found": [
            "Drive pulley lagging worn smooth; take-up tension low.",
            "Counterweight take-up resting on its stop; belt stretched.",
        ],
        "work": [
            "Locked out the conveyor. Replaced the pulley lagging with bolt-on lagging pads. Set the belt "
            "tension. Tested start-up with a full load.",
            "Shortened the belt and made a new mechanical splice. Reset the counterweight travel. Checked "
            "tension and tracking.",
        ],
        "cause": [
            "Worn lagging and low tension.",
            "Belt stretch over time used up the take-up travel.",
        ],
    },
    {
        "machine": "belt conveyor",
        "hours": (2.0, 5.0),
        "problem": [
            "Gearbox on the drive is noisy and hot to touch.",
            "Knocking noise from the conveyor drive gearbox.",
        ],
        "found": [
            "Gearbox oil level low, oil dark; output shaft bearing rough. Housing at {temp:78-88} C.",
            "Output shaft seal leaking; bearing noise on the input side.",
        ],
        "work": [
            "Drained the gearbox and flushed it. Replaced the output shaft bearing and seal. Refilled with "
            "the specified gear oil. Checked the temperature after 2 h, 55 C.",
            "Replaced the input bearing and the output shaft seal. Changed the oil. Checked the coupling "
            "alignment.",
        ],
        "cause": [
            "Low oil from a leaking seal led to bearing damage.",
            "Seal wear and oil not changed at the interval.",
        ],
    },
    {
        "machine": "belt conveyor",
        "hours": (0.5, 2.0),
        "problem": [
            "Conveyor stops for no reason a few times an hour.",
            "Intermittent stops, no alarm on the panel.",
            "Conveyor stops and the drive shows fault F{code:2-9}.",
        ],
        "found": [
            "Photo-eye at the transfer dirty and slightly misaligned, flickering.",
            "Drive shows overcurrent faults in its history; motor cable loose in the terminal box.",
        ],
        "work": [
            "Cleaned the photo-eye and the reflector. Realigned and tightened the bracket. Checked the "
            "signal "
            "strength indicator. Monitored for one hour.",
            "Tightened the motor cable terminals. Checked the insulation resistance. Reviewed the drive "
            "fault "
            "log and reset it. Ran the conveyor loaded for 1 h.",
        ],
        "cause": [
            "Dust on the photo-eye and a loose bracket.",
            "Loose motor connection causing current spikes.",
        ],
    },
    {
        "machine": "belt conveyor",
        "hours": (0.5, 1.5),
        "problem": [
            "Pull-cord emergency stop will not reset.",
            "E-stop along the line stays active, conveyor locked.",
        ],
        "found": [
            "Pull-wire switch lever bent; contact block damaged.",
            "Pull wire slack and switch not returning to its run position.",
        ],
        "work": [
            "Replaced the pull-wire switch. Tensioned the wire to the mark on the switch. Tested the stop "
            "function along the full length.",
            "Re-tensioned the pull wire and checked the switch reset. Tested every pull station.",
        ],
        "cause": [
            "Switch hit by a forklift.",
            "Wire stretched after a cold spell.",
        ],
    },
    # ---------------------------------------------------------------------------------- forklift
    {
        "machine": "electric forklift",
        "hours": (1.0, 3.0),
        "problem": [
            "Battery runs flat after {h:3-4} hours instead of a full shift.",
            "Truck slows down in the afternoon, battery indicator drops quickly.",
        ],
        "found": [
            "Two cells with low specific gravity; electrolyte below the plates in several cells.",
            "Battery connector pins burnt; charger ends the charge early.",
        ],
        "work": [
            "Topped up all cells with demineralised water. Gave the battery an equalising charge. Measured "
            "the specific gravity of every cell after the charge. Replaced two weak cells.",
            "Replaced the battery connector on the truck and on the charger lead. Checked the charger "
            "settings. Did a full charge and a discharge test.",
        ],
        "cause": [
            "Battery watering neglected.",
            "Burnt connector pins gave high resistance during charging.",
        ],
    },
    {
        "machine": "electric forklift",
        "hours": (1.5, 4.0),
        "problem": [
            "Mast lifts slowly and jerks near the top.",
            "Forks rise in steps with a load, chain noise.",
        ],
        "found": [
            "Hydraulic oil level low; lift chains dry and stiff.",
            "Pump motor brushes worn to {mm:6-9} mm; mast rollers dry.",
        ],
        "work": [
            "Topped up the hydraulic oil and checked for leaks. Cleaned and lubricated the lift chains. "
            "Measured chain elongation, within limits. Tested lifting with the rated load.",
            "Replaced the pump motor brushes. Greased the mast rollers and channels. Tested lift speed with "
            "a "
            "load.",
        ],
        "cause": [
            "Missed service and a small leak at the tilt cylinder.",
            "Brush wear on the pump motor.",
        ],
    },
    {
        "machine": "electric forklift",
        "hours": (1.0, 2.5),
        "problem": [
            "Brakes weak, truck rolls on the ramp.",
            "Grinding noise when braking.",
        ],
        "found": [
            "Brake linings worn to the rivets on the left drive wheel; drum scored.",
            "Parking brake cable stretched; adjuster at the end of its travel.",
        ],
        "work": [
            "Replaced the brake shoes on both drive wheels. Skimmed the scored drum. Adjusted the brakes and "
            "tested on the ramp with a load.",
            "Replaced the parking brake cable and adjusted it. Checked the service brake. Tested the truck "
            "on "
            "the ramp.",
        ],
        "cause": [
            "Lining wear; the brake inspection was overdue.",
            "Cable stretch over time.",
        ],
    },
    {
        "machine": "electric forklift",
        "hours": (0.75, 2.0),
        "problem": [
            "Truck will not drive, error code E{code:20-49} on the display.",
            "Traction stops while driving, resets after key off and on.",
        ],
        "found": [
            "Main contactor tips burnt; contactor chatters.",
            "Loose power cable on the traction controller terminal, heat discolouration.",
        ],
        "work": [
            "Replaced the main contactor. Cleaned the contactor terminals. Checked the controller fault log. "
            "Test drove the truck for 15 min.",
            "Cleaned and retightened the controller power terminal to torque. Replaced the damaged cable "
            "lug. "
            "Cleared the fault log and test drove.",
        ],
        "cause": [
            "Main contactor worn out by frequent switching.",
            "Terminal loosened by vibration on rough floors.",
        ],
    },
    # --------------------------------------------------------------------------- packaging machine
    {
        "machine": "flow-wrap packaging machine",
        "hours": (0.75, 2.5),
        "problem": [
            "Cut off not on the print mark, logo cut through.",
            "Film registration drifting, bags cut in the wrong place.",
            "Print position changes from pack to pack.",
        ],
        "found": [
            "Registration photo-eye dirty and set to the wrong contrast.",
            "Film reel brake slipping; film tension varies.",
        ],
        "work": [
            "Cleaned the registration photo-eye. Taught it the mark and background again. Checked the "
            "correction window in the HMI. Ran {n:200-400} packs with the mark in position.",
            "Replaced the reel brake pad. Adjusted the dancer arm tension. Taught the photo-eye again and "
            "ran "
            "test packs.",
        ],
        "cause": [
            "Film dust on the photo-eye.",
            "Worn reel brake pad.",
        ],
    },
    {
        "machine": "flow-wrap packaging machine",
        "hours": (1.0, 3.0),
        "problem": [
            "End seals not closed, packs open at one end.",
            "Weak end seals, packs leak in the water test.",
        ],
        "found": [
            "One heater cartridge in the upper seal jaw open circuit; jaw at {temp:105-125} C.",
            "Seal jaw faces coated with burnt film; thermocouple loose.",
        ],
        "work": [
            "Replaced the heater cartridge in the upper jaw. Checked the jaw temperature with a contact "
            "probe. "
            "Checked the seal with the water test.",
            "Cleaned the seal jaw faces with a brass brush. Refitted the thermocouple. Checked seal quality.",
        ],
        "cause": [
            "Heater cartridge failure.",
            "Film build-up on the jaws and a loose thermocouple.",
        ],
    },
    {
        "machine": "flow-wrap packaging machine",
        "hours": (1.0, 2.5),
        "problem": [
            "Film breaks several times per hour, long restart each time.",
            "Film tears at the forming box when the machine speeds up.",
        ],
        "found": [
            "Dancer arm pivot sticking; film tension spikes when the reel starts.",
            "Burr on the forming box edge from the last repair; film scored at that point.",
        ],
        "work": [
            "Cleaned and lubricated the dancer arm pivot. Replaced the dancer damper. Checked the film "
            "tension through a full reel at production speed.",
            "Removed the burr and polished the forming box edge. Rethreaded the film. Ran {n:300-600} test "
            "packs at full speed without a break.",
        ],
        "cause": [
            "Dirt and dried glue in the dancer pivot.",
            "Sharp edge left on the forming box after a repair.",
        ],
    },
    {
        "machine": "flow-wrap packaging machine",
        "hours": (1.0, 3.0),
        "problem": [
            "Products jam at the infeed and get crushed by the jaws.",
            "Product not in position under the film, crushed packs.",
        ],
        "found": [
            "Infeed flight chain stretched; flights out of phase with the jaws by {mm:8-15} mm.",
            "Infeed belt slipping on its drive roller; product pitch irregular.",
        ],
        "work": [
            "Replaced the infeed chain and sprockets. Re-phased the flights with the jaws using the "
            "timing marks. Ran the machine at full speed with product.",
            "Replaced the infeed belt. Set the belt tension. Checked the product pitch with the HMI "
            "diagnostics.",
        ],
        "cause": [
            "Chain stretch after about three years of running.",
            "Worn infeed belt.",
        ],
    },
    {
        "machine": "flow-wrap packaging machine",
        "hours": (0.5, 1.5),
        "problem": [
            "Knife does not cut cleanly, packs hang together.",
            "Packs connected by a strip of film after the cut.",
        ],
        "found": [
            "Knife blade dull and chipped in the middle.",
            "Knife not aligned with the anvil; gap of {mm:0.1-0.3} mm at one end.",
        ],
        "work": [
            "Locked out the machine. Replaced the knife blade. Set the knife to the anvil with a feeler "
            "gauge. Ran test packs.",
            "Locked out the machine. Realigned the knife to the anvil. Checked the cut across the full film "
            "width with paper.",
        ],
        "cause": [
            "Blade wear; the blade had been in use for too long.",
            "Knife bracket moved during a product jam.",
        ],
    },
    # ---------------------------------------------------------------------------- industrial robot
    {
        "machine": "industrial robot",
        "hours": (1.5, 4.0),
        "problem": [
            "Robot misses the pick position by a few millimetres after a collision last week.",
            "Robot places parts {mm:2-5} mm off in the fixture.",
        ],
        "found": [
            "Tool centre point shifted by a few millimetres; gripper mounting bracket bent.",
            "Axis 1 mastering offset changed; the reference pin check is out.",
        ],
        "work": [
            "Replaced the bent gripper bracket. Re-taught the tool centre point with the four-point method. "
            "Checked all taught points in the program. Ran {n:20-50} cycles.",
            "Re-mastered axis 1 with the mastering kit. Checked positions on the reference pin. Ran the "
            "program at low speed and then at production speed.",
        ],
        "cause": [
            "Collision with a fixture during manual jogging bent the gripper bracket.",
            "Mastering shifted after a hard collision.",
        ],
    },
    {
        "machine": "industrial robot",
        "hours": (3.0, 6.0),
        "problem": [
            "Axis {ax:4-6} makes a grinding noise and overheats.",
            "Wrist axis noisy, current higher than normal.",
        ],
        "found": [
            "Reducer grease dark and low; fine metal particles in the drained grease.",
            "Motor current {pct:20-35}% above the baseline on the wrist axis.",
        ],
        "work": [
            "Replaced the grease in the reducer with the quantity from the manual. Ran the axis to release "
            "pressure before closing the plug. Checked backlash, within limits. Checked the motor current "
            "after the change.",
            "Replaced the wrist axis motor and reducer. Re-mastered the axis. Recorded the new current "
            "baseline.",
        ],
        "cause": [
            "Reducer grease change overdue by a year.",
            "Reducer wear from running heavy grippers at high acceleration.",
        ],
    },
    {
        "machine": "industrial robot",
        "hours": (0.5, 2.0),
        "problem": [
            "Robot drops parts, vacuum gripper does not hold.",
            "Vacuum too low alarm on the gripper.",
        ],
        "found": [
            "Two of the six vacuum cups torn at the lip; vacuum only {kpa:35-50} kPa at the gripper.",
            "Vacuum generator silencer blocked with cardboard dust; ejector pulling weak vacuum.",
        ],
        "work": [
            "Replaced all six vacuum cups with the same durometer. Checked the vacuum hoses for cracks and "
            "replaced one split hose. Checked the vacuum level with a part, 75 kPa. Ran the cell for 30 "
            "min.",
            "Replaced the ejector silencer. Cleaned the vacuum generator nozzle and the supply filter. Set "
            "the "
            "vacuum switch threshold again. Ran parts at full speed.",
        ],
        "cause": [
            "Cup lips worn by sharp-edged parts; cups not on the inspection list.",
            "Cardboard dust sucked through the cups blocked the silencer.",
        ],
    },
    {
        "machine": "industrial robot",
        "hours": (1.0, 3.0),
        "problem": [
            "Teach pendant screen black and robot stuck in E-stop.",
            "Pendant freezes when moved and the robot stops with an E-stop.",
        ],
        "found": [
            "Pendant cable crushed about 1 m from the controller connector; two cores broken.",
            "Three-position enabling switch on the pendant faulty; contact opens when pressed lightly.",
        ],
        "work": [
            "Replaced the teach pendant cable and fitted a cable hanger by the cell door. Checked both "
            "channels of the E-stop circuit. Tested jog, E-stop and the enabling device.",
            "Replaced the enabling switch on the pendant. Tested the E-stop, the enabling device in all "
            "three "
            "positions and the safety controller diagnostics.",
        ],
        "cause": [
            "Pendant cable left on the floor and run over by a pallet truck.",
            "Enabling switch worn after heavy use during programming.",
        ],
    },
    {
        "machine": "industrial robot",
        "hours": (0.5, 2.0),
        "problem": [
            "Battery low warning on the robot controller at start-up.",
            "Robot lost its position after the weekend power cut, needs mastering.",
        ],
        "found": [
            "Encoder backup battery pack at {v:2.9-3.2} V; warning threshold reached.",
            "Encoder backup battery dead; revolution counters lost on all axes.",
        ],
        "work": [
            "Replaced the encoder backup batteries with the controller powered on so no position was lost. "
            "Checked the positions on the reference point. Wrote the change date on the battery cover.",
            "Replaced the battery pack. Re-mastered all six axes with the mastering kit. Checked positions "
            "on "
            "the reference points and ran the program at reduced speed.",
        ],
        "cause": [
            "End of battery life after about two years.",
            "Battery change missed in the maintenance plan.",
        ],
    },
    # ------------------------------------------------------------------------------ overhead crane
    {
        "machine": "overhead crane",
        "hours": (1.0, 3.0),
        "problem": [
            "Hoist load creeps down a few centimetres after the button is released.",
            "Hook drifts down with a {t:2-5} t load before the brake holds.",
            "Load sinks when stopping the hoist, riggers refused to use the crane.",
        ],
        "found": [
            "Hoist brake air gap {gap:0.9-1.4} mm against 0.4 mm nominal; lining worn close to the limit.",
            "Brake disc glazed and wet with gear oil from the gearbox input seal above it.",
        ],
        "work": [
            "Isolated the crane and tagged the main switch. Adjusted the brake air gap to 0.4 mm on all "
            "three points. Measured the lining thickness, still above the minimum. Tested with the rated "
            "load and a stop from full speed.",
            "Replaced the input shaft seal of the hoist gearbox. Replaced the brake disc and lining. Cleaned "
            "the brake housing. Did a braking test with 110% of the rated load.",
        ],
        "cause": [
            "Normal lining wear; the brake gap was not checked at the quarterly inspection.",
            "Oil from a leaking gearbox seal contaminated the brake.",
        ],
    },
    {
        "machine": "overhead crane",
        "hours": (1.0, 3.0),
        "problem": [
            "Crane stops and starts by itself along the runway near bay {bay:3-6}.",
            "Bridge travel jerky, crane loses power at the same spot every time.",
        ],
        "found": [
            "Collector shoes of the conductor bar worn to {mm:3-5} mm; sparking marks on the bar.",
            "Conductor bar joint misaligned by a few millimetres; collector jumps at the joint.",
        ],
        "work": [
            "Locked out the runway supply. Replaced all collector shoes and checked their spring pressure. "
            "Cleaned the conductor bar. Ran the crane over the full runway at both speeds.",
            "Realigned and clamped the conductor bar joint. Checked the hangers along the runway. Replaced "
            "one cracked hanger. Ran the crane loaded over the joint several times.",
        ],
        "cause": [
            "Collector shoe wear beyond the replacement mark.",
            "A hanger cracked and let the bar sag at the joint.",
        ],
    },
    {
        "machine": "overhead crane",
        "hours": (0.5, 1.5),
        "problem": [
            "Radio remote does not respond, crane dead from the floor.",
            "Remote control only works when standing right under the crane.",
        ],
        "found": [
            "Transmitter battery at {v:3.3-3.5} V; receiver antenna connector loose.",
            "Another crane in the hall was put on the same radio channel.",
        ],
        "work": [
            "Replaced the transmitter battery and charged the spare. Tightened and sealed the antenna "
            "connector. Tested every function from the far end of the bay.",
            "Changed the radio channel of this crane and paired the transmitter again. Labelled the channel "
            "on the receiver. Tested the stop button and all motions.",
        ],
        "cause": [
            "Weak battery and a loose antenna connector.",
            "Radio channel clash after the new crane was commissioned.",
        ],
    },
    {
        "machine": "overhead crane",
        "hours": (3.0, 6.0),
        "problem": [
            "Broken wires seen on the hoist rope during the pre-use check.",
            "Hoist rope looks flattened near the hook block.",
        ],
        "found": [
            "{n:6-12} broken wires within one lay length and a flattened section, above the discard limit.",
            "Rope kinked near the drum end; rope guide cracked.",
        ],
        "work": [
            "Took the crane out of service. Replaced the hoist rope with one of the same construction and "
            "grade. Checked the sheave and drum grooves with a groove gauge. Ran a load test at 125% and "
            "recorded it.",
            "Replaced the rope guide and the rope. Checked the upper limit switch after the rope change. Did "
            "the load test and updated the crane log.",
        ],
        "cause": [
            "Rope fatigue after years of service at high duty.",
            "Side pulling of loads made the rope jump the guide and kink.",
        ],
    },
    {
        "machine": "overhead crane",
        "hours": (0.75, 2.0),
        "problem": [
            "Hook block goes up past the normal top position, upper limit did not stop it.",
            "Upper hoist limit not working, hook hit the trolley frame.",
        ],
        "found": [
            "Geared limit switch cam slipped on its shaft; contacts still fine.",
            "Weight-operated limit switch cable tangled; switch not actuated.",
        ],
        "work": [
            "Took the crane out of service. Reset the cam of the geared limit switch and tightened its "
            "screw. "
            "Tested the upper and lower limits ten times at slow and fast speed.",
            "Freed and re-hung the limit switch weight. Replaced its cable. Tested the upper limit at both "
            "speeds.",
        ],
        "cause": [
            "Loose cam screw on the limit switch.",
            "Limit switch weight caught on the hook block.",
        ],
    },
    # ---------------------------------------------------------------------------------- band saw
    {
        "machine": "band saw",
        "hours": (1.0, 2.5),
        "problem": [
            "Cuts running off square, {mm:1-3} mm out over a 200 mm bar.",
            "Blade wanders in the cut, ends of the bars are angled.",
            "Crooked cuts on solid steel, fine on tubes.",
        ],
        "found": [
            "Blade teeth worn and rounded on one side; carbide guide inserts loose.",
            "Blade tension {mpa:150-190} MPa measured against 250 MPa recommended.",
        ],
        "work": [
            "Fitted a new blade. Adjusted the guide inserts to the blade. Set the tension with the tension "
            "gauge. Made a test cut and checked it with a square.",
            "Set the blade tension to the recommended value. Moved the movable guide arm close to the work. "
            "Checked the vice for squareness. Made a test cut.",
        ],
        "cause": [
            "Blade worn on one side from a loose guide.",
            "Tension not set after the last blade change.",
        ],
    },
    {
        "machine": "band saw",
        "hours": (1.0, 3.0),
        "problem": [
            "Blade breaks every few days, always near the weld.",
            "Blade snapped twice this week on the same job.",
        ],
        "found": [
            "Drive wheel bearing worn; wheel wobbles.",
            "Feed rate set {pct:40-60}% above the chart for this material; brush not cleaning the teeth.",
        ],
        "work": [
            "Replaced the drive wheel bearing. Checked the wheel alignment and the tracking. Fitted a new "
            "blade and ran it in at reduced feed.",
            "Set the feed and speed from the cutting chart. Replaced the chip brush. Fitted a new blade and "
            "ran it in.",
        ],
        "cause": [
            "Worn wheel bearing flexing the blade at every turn.",
            "Cutting parameters too aggressive and teeth loaded with chips.",
        ],
    },
    {
        "machine": "band saw",
        "hours": (0.5, 1.5),
        "problem": [
            "No coolant on the blade, blade running hot.",
            "Coolant comes out only on one side of the blade.",
        ],
        "found": [
            "Coolant nozzle and the hose to the guide arm blocked with fine chips.",
            "Pump suction filter blocked; coolant concentration {conc:2-3}%.",
        ],
        "work": [
            "Cleaned the nozzles and blew out the hose. Checked the flow on both sides of the blade. Emptied "
            "the chip tray.",
            "Cleaned the pump filter. Corrected the coolant concentration to 6%. Checked the flow at the "
            "blade.",
        ],
        "cause": [
            "Chips in the coolant return.",
            "Coolant not maintained and the filter not cleaned.",
        ],
    },
    {
        "machine": "band saw",
        "hours": (1.0, 2.5),
        "problem": [
            "Saw frame drops too fast into the cut, feed control does nothing.",
            "Feed speed knob has no effect, frame falls onto the work.",
        ],
        "found": [
            "Flow control valve on the feed cylinder sticking; oil dirty.",
            "Hydraulic oil low and aerated; air in the feed cylinder.",
        ],
        "work": [
            "Cleaned the flow control valve. Changed the hydraulic oil and the filter. Bled the feed "
            "cylinder. "
            "Checked the feed over the full range.",
            "Found and tightened a leaking fitting. Topped up the oil. Bled the cylinder. Tested the feed "
            "control.",
        ],
        "cause": [
            "Contaminated oil in the feed circuit.",
            "Small leak let air into the feed cylinder.",
        ],
    },
    # ------------------------------------------------------------------------- fibre laser cutter
    {
        "machine": "fibre laser cutter",
        "hours": (0.5, 2.0),
        "problem": [
            "Dross on the bottom edge of stainless parts, parts need grinding.",
            "Cut quality poor with rough edges, getting worse during the shift.",
            "Laser does not cut through {t:4-8} mm steel any more.",
        ],
        "found": [
            "Protective window with spatter burns; nozzle orifice out of round.",
            "Focus offset by {mm:0.5-1.2} mm after a head collision; nozzle dented.",
        ],
        "work": [
            "Replaced the protective window in a clean way with gloves. Replaced the nozzle. Centred the "
            "beam with a tape shot. Checked the focus. Made test cuts on scrap.",
            "Replaced the nozzle. Recalibrated the focus position. Calibrated the capacitive height sensor. "
            "Cut a test part and checked the edges.",
        ],
        "cause": [
            "Spatter build-up when piercing thick plate.",
            "Head collision with a tipped-up part.",
        ],
    },
    {
        "machine": "fibre laser cutter",
        "hours": (0.5, 1.5),
        "problem": [
            "Height sensing error, head stops above the sheet.",
            "Cutting head touches the sheet and the machine stops with a collision alarm.",
        ],
        "found": [
            "Ceramic ring of the cutting head cracked.",
            "Capacitive sensor calibration lost after the nozzle change; reading {mm:0.3-0.8} mm off.",
        ],
        "work": [
            "Replaced the ceramic ring. Fitted a new nozzle. Calibrated the capacitive sensor on a clean "
            "sheet. Ran the height check program.",
            "Cleaned the nozzle and the ring contact. Calibrated the height sensor. Cut a test part.",
        ],
        "cause": [
            "Impact on the nozzle cracked the ceramic ring.",
            "Sensor not calibrated after the nozzle change.",
        ],
    },
    {
        "machine": "fibre laser cutter",
        "hours": (1.0, 2.5),
        "problem": [
            "Laser source stops with a chiller flow alarm.",
            "Chiller alarm on the laser, cutting interrupted.",
        ],
        "found": [
            "Chiller water filter blocked; flow {lpm:12-16} l/min against 22 l/min minimum.",
            "Water level in the chiller low; small leak at a hose clamp under the source.",
        ],
        "work": [
            "Replaced the chiller water filter. Topped up with deionised water and the additive. Checked the "
            "flow and the conductivity. Restarted the laser source.",
            "Tightened the hose clamp and checked for more leaks. Topped up the chiller. Checked the flow "
            "and "
            "the water temperature.",
        ],
        "cause": [
            "Filter not changed at the service interval.",
            "Loose hose clamp.",
        ],
    },
    {
        "machine": "fibre laser cutter",
        "hours": (0.5, 1.5),
        "problem": [
            "Assist gas pressure low alarm when cutting stainless.",
            "Nitrogen pressure drops during long cuts, edges turn yellow.",
        ],
        "found": [
            "Gas regulator at the machine set to {bar:12-15} bar; supply pressure drops when the bulk tank "
            "is low.",
            "Leak at the gas connection on the cutting head.",
        ],
        "work": [
            "Set the regulator back to the recipe pressure. Arranged a bulk tank refill. Checked the gas "
            "pressure at the head during a cut.",
            "Replaced the O-ring at the head gas connection. Leak tested with spray. Checked pressure at the "
            "nozzle.",
        ],
        "cause": [
            "Low bulk tank level and a regulator changed by hand.",
            "Worn O-ring at the gas connection.",
        ],
    },
    # ---------------------------------------------------------------------------------- press brake
    {
        "machine": "press brake",
        "hours": (1.0, 3.0),
        "problem": [
            "Bend angle varies along the part, {deg:1-2} degrees more open in the middle.",
            "Long parts come out with a bigger angle in the middle than at the ends.",
        ],
        "found": [
            "Crowning table adjustment not following the tonnage; crowning set by hand to zero.",
            "Punch worn in the middle section.",
        ],
        "work": [
            "Set the crowning back to automatic. Checked the crowning values from the control. Bent a test "
            "part 2 m long and measured the angle at five points.",
            "Replaced the worn punch section. Checked the tool heights. Bent test parts and checked the "
            "angle "
            "along the length.",
        ],
        "cause": [
            "Crowning switched to manual during a job and left there.",
            "Tool wear from bending thick plate on one section.",
        ],
    },
    {
        "machine": "press brake",
        "hours": (2.0, 5.0),
        "problem": [
            "Y1/Y2 synchronisation error, press stops during the bend.",
            "Ram tilts and the control gives a parallelism alarm.",
        ],
        "found": [
            "Linear scale on Y2 dirty; reading jumps.",
            "Proportional valve on Y1 responding slowly.",
        ],
        "work": [
            "Cleaned the Y2 linear scale and its reading head. Checked the scale cable. Referenced both "
            "axes. "
            "Ran bends at full tonnage.",
            "Replaced the Y1 proportional valve. Checked the oil filter indicator. Ran the synchronisation "
            "test from the service menu.",
        ],
        "cause": [
            "Oil mist and dust on the scale.",
            "Worn proportional valve spool.",
        ],
    },
    {
        "machine": "press brake",
        "hours": (1.0, 3.0),
        "problem": [
            "Backgauge goes to the wrong position, flange lengths out by {mm:0.3-0.8} mm.",
            "Flange length changes between parts.",
        ],
        "found": [
            "X axis toothed belt of the backgauge loose and jumping a tooth.",
            "Backgauge finger loose on its bar, moves when the part is pushed against it.",
        ],
        "work": [
            "Tensioned the toothed belt. Referenced the X axis. Checked the position with a gauge block at "
            "three points.",
            "Tightened the finger and checked it for play. Checked the X position with a gauge block.",
        ],
        "cause": [
            "Toothed belt stretched.",
            "Finger clamp screw not tightened after a finger change.",
        ],
    },
    {
        "machine": "press brake",
        "hours": (1.5, 4.0),
        "problem": [
            "Oil leaking down the side frame from the cylinder.",
            "Oil under the press, Y1 side.",
        ],
        "found": [
            "Rod seal of the Y1 cylinder leaking; rod surface fine.",
            "Hose fitting on the Y1 cylinder loose, O-ring extruded.",
        ],
        "work": [
            "Blocked the ram. Replaced the rod seal of the Y1 cylinder. Bled the cylinder. Checked for leaks "
            "at full tonnage.",
            "Tightened the fitting and replaced its seal. Cleaned the frame. Checked for leaks.",
        ],
        "cause": [
            "Rod seal worn out.",
            "Vibration loosened the fitting.",
        ],
    },
    # ------------------------------------------------------------------------------ process chiller
    {
        "machine": "process chiller",
        "hours": (1.0, 3.0),
        "problem": [
            "Chiller trips on high pressure on hot days.",
            "High pressure alarm on the chiller, moulds running warm.",
        ],
        "found": [
            "Condenser coil blocked with dust and poplar seeds; head pressure {bar:21-24} bar.",
            "One condenser fan not running; fan motor seized.",
        ],
        "work": [
            "Isolated the chiller. Cleaned the condenser coil with a brush and low pressure water from the "
            "inside out. Checked the fans. Measured the head pressure under load, back to normal.",
            "Replaced the condenser fan motor. Checked the fan speed control. Checked the head pressure at "
            "full load.",
        ],
        "cause": [
            "Dirty condenser coil.",
            "Seized fan motor bearings.",
        ],
    },
    {
        "machine": "process chiller",
        "hours": (2.0, 6.0),
        "problem": [
            "Chiller trips on low pressure and the water is not cold enough.",
            "Low pressure alarm, chiller restarts and trips again.",
        ],
        "found": [
            "Refrigerant undercharged; leak found at a brazed joint with the detector.",
            "Expansion valve hunting; sensing bulb loose on the suction line.",
        ],
        "work": [
            "A certified refrigeration technician recovered the refrigerant, repaired the brazed joint and "
            "pressure tested with nitrogen. Evacuated the circuit and recharged by weight. Checked superheat "
            "and subcooling.",
            "Refitted and insulated the expansion valve bulb. Checked the superheat, {k:5-7} K. Ran the "
            "chiller at full load.",
        ],
        "cause": [
            "Vibration crack at a brazed joint.",
            "Loose expansion valve bulb.",
        ],
    },
    {
        "machine": "process chiller",
        "hours": (0.75, 2.0),
        "problem": [
            "Low flow alarm on the chiller, process water not circulating well.",
            "Flow alarm after the moulds were changed.",
        ],
        "found": [
            "Y-strainer on the return line blocked with scale.",
            "Pump running backwards after an electrical change.",
        ],
        "work": [
            "Isolated and cleaned the Y-strainer. Checked the water treatment dosing. Checked flow and pump "
            "pressure.",
            "Swapped two phases at the pump motor. Checked the rotation and the flow.",
        ],
        "cause": [
            "Scale from poor water treatment.",
            "Phase sequence changed during the electrical work.",
        ],
    },
    # ---------------------------------------------------------------------------- plastics extruder
    {
        "machine": "plastics extruder",
        "hours": (1.0, 3.0),
        "problem": [
            "Melt pressure swinging by {bar:20-40} bar, product thickness varies.",
            "Extruder surging, output goes up and down.",
        ],
        "found": [
            "Screen pack blocked; pressure before the screen high.",
            "Material bridging in the hopper; feed throat too warm.",
        ],
        "work": [
            "Changed the screen pack with the screen changer. Checked the melt pressure trend. Adjusted the "
            "screw speed back to the recipe.",
            "Cleared the hopper and checked the feed throat cooling water. Set the zone 1 temperature to the "
            "recipe. Checked the pressure trend for 30 min.",
        ],
        "cause": [
            "Contamination in the regrind.",
            "Feed throat cooling valve throttled.",
        ],
    },
    {
        "machine": "plastics extruder",
        "hours": (1.0, 3.0),
        "problem": [
            "Barrel zone {zone:2-5} does not reach temperature.",
            "Zone temperature alarm, one zone stays cold.",
        ],
        "found": [
            "Heater band open circuit; resistance infinite at the terminals.",
            "Solid state relay of the zone failed open; heater band fine.",
        ],
        "work": [
            "Locked out the heaters. Replaced the heater band. Checked all heater resistances. Heated up and "
            "checked the zone.",
            "Replaced the solid state relay and renewed the heat sink paste. Checked the cabinet fan and "
            "filter. Checked the zone output and its temperature.",
        ],
        "cause": [
            "Heater band burnt out.",
            "Relay failure from heat in the cabinet.",
        ],
    },
    {
        "machine": "plastics extruder",
        "hours": (0.5, 2.0),
        "problem": [
            "Screw drive trips on overload at start-up.",
            "Drive overload at start, screw does not turn.",
        ],
        "found": [
            "Barrel heat soak too short after a cold start; material still solid in the feed section.",
            "Gearbox oil level low and the thrust bearing running warm.",
        ],
        "work": [
            "Let the barrel soak for 30 min at temperature. Started the screw at low speed. Checked the "
            "motor "
            "current.",
            "Topped up the gearbox oil. Checked for leaks. Started the screw and checked the current.",
        ],
        "cause": [
            "Start-up procedure not followed; soak time skipped.",
            "Oil leak at the gearbox shaft seal.",
        ],
    },
    {
        "machine": "plastics extruder",
        "hours": (2.0, 6.0),
        "problem": [
            "Die lines along the film, customer complaint.",
            "Streaks in the product from the die.",
        ],
        "found": [
            "Die lip nicked in two places.",
            "Degraded, black material stuck in the die land.",
        ],
        "work": [
            "Split the die and polished the lip with a brass tool. Cleaned the die. Reassembled and set the "
            "die gap.",
            "Purged the extruder. Split and cleaned the die. Checked the product.",
        ],
        "cause": [
            "A steel scraper was used to clean the die lip.",
            "The line stood at temperature for a long time without running.",
        ],
    },
    # ---------------------------------------------------------------------------------- palletizer
    {
        "machine": "palletizer",
        "hours": (1.0, 3.0),
        "problem": [
            "Cases fall off the layer before it reaches the pallet.",
            "Layers badly formed, boxes skewed on the layer plate.",
            "Every few layers a case tips over at the pusher.",
        ],
        "found": [
            "Layer pusher wear strips worn through; pusher bar {mm:5-10} mm lower on one side.",
            "Layer plate opens slowly and unevenly; guide rods dry and dirty with cardboard dust.",
        ],
        "work": [
            "Replaced the pusher wear strips. Levelled the pusher bar. Checked the pusher speed profile in "
            "the HMI. Ran three full pallets and checked the layer pattern.",
            "Cleaned and lubricated the layer plate guide rods. Adjusted the flow controls of the plate "
            "cylinders so both sides open together. Ran pallets with the lightest case.",
        ],
        "cause": [
            "Worn wear strips let the pusher bar tilt.",
            "Cardboard dust in the guides slowed one side of the plate.",
        ],
    },
    {
        "machine": "palletizer",
        "hours": (0.5, 2.0),
        "problem": [
            "Empty pallet dispenser jams and the line stops for lack of pallets.",
            "Pallet dispenser fault, forks do not release the stack.",
        ],
        "found": [
            "Broken bottom board of a pallet caught on the dispenser forks.",
            "Fork position sensor loose; fork extended signal missing.",
        ],
        "work": [
            "Locked out the dispenser. Removed the broken pallet and checked the forks for damage. Reset the "
            "dispenser and cycled a full stack.",
            "Refitted and tightened the fork sensor. Checked the switching distance. Cycled the forks "
            "{n:10-20} times.",
        ],
        "cause": [
            "Damaged pallet in the incoming stack.",
            "Sensor bracket loosened by vibration.",
        ],
    },
    {
        "machine": "palletizer",
        "hours": (0.25, 1.0),
        "problem": [
            "Safety door fault on the palletizer cell, cannot reset.",
            "Cell door shown open on the HMI although it is closed.",
        ],
        "found": [
            "Door interlock actuator misaligned; door sagging on its hinges.",
            "Coded safety switch damaged by a forklift.",
        ],
        "work": [
            "Adjusted the door hinges. Realigned the interlock actuator. Tested that the cell stops when the "
            "door opens.",
            "Replaced the coded safety switch and taught the new actuator code. Tested the stop function.",
        ],
        "cause": [
            "Door sagging over time.",
            "Impact from a forklift.",
        ],
    },
    {
        "machine": "palletizer",
        "hours": (0.75, 2.0),
        "problem": [
            "Stretch wrapper at the palletizer exit breaks the film on every pallet.",
            "Film tears at the start of the wrap cycle.",
        ],
        "found": [
            "Pre-stretch rollers coated with glue from the film; rubber glazed.",
            "Pre-stretch set to {pct:280-320}% for a film rated 200%.",
        ],
        "work": [
            "Cleaned the pre-stretch rollers with solvent. Checked the roller drive belt. Wrapped test "
            "pallets.",
            "Set the pre-stretch to 200% for the film in use. Updated the wrapping recipe. Wrapped test "
            "pallets.",
        ],
        "cause": [
            "Glue build-up on the rollers.",
            "Wrong pre-stretch for the film.",
        ],
    },
    # ----------------------------------------------------------------------------- MIG welding cell
    {
        "machine": "MIG welding cell",
        "hours": (0.5, 2.0),
        "problem": [
            "Wire feed erratic, arc stutters and the wire bird-nests at the feeder.",
            "Wire jams in the torch liner several times per shift.",
        ],
        "found": [
            "Torch liner worn and kinked; drive rolls for 1.0 mm wire fitted with 1.2 mm wire.",
            "Drive roll pressure too high, wire flattened; liner full of copper dust.",
        ],
        "work": [
            "Replaced the torch liner and cut it to length. Fitted the correct drive rolls. Set the roll "
            "pressure. Ran {n:5-10} test welds.",
            "Blew out the old liner and then replaced it. Reduced the roll pressure. Checked the wire spool "
            "brake. Made test welds.",
        ],
        "cause": [
            "Wrong drive rolls after a wire size change.",
            "Liner wear and excessive roll pressure.",
        ],
    },
    {
        "machine": "MIG welding cell",
        "hours": (0.5, 1.5),
        "problem": [
            "Porosity in the welds, quality found holes on the cut sections.",
            "Welds full of pin holes since this morning.",
        ],
        "found": [
            "Gas flow {lpm:6-9} l/min at the nozzle; leak at the gas hose connection on the feeder.",
            "Nozzle full of spatter; shielding gas not reaching the weld.",
        ],
        "work": [
            "Replaced the gas hose connection and its seal. Set the flow to 15 l/min at the nozzle. Leak "
            "tested with spray. Made test welds and cut a section.",
            "Cleaned the nozzle and the gas diffuser. Set the reamer station interval shorter. Checked the "
            "gas flow and made test welds.",
        ],
        "cause": [
            "Leaking gas connection drawing in air.",
            "Spatter build-up; nozzle cleaning interval too long.",
        ],
    },
    {
        "machine": "MIG welding cell",
        "hours": (0.5, 1.5),
        "problem": [
            "Contact tips burn back and weld to the wire every hour.",
            "Wire sticks in the contact tip, robot stops with a wire stick alarm.",
        ],
        "found": [
            "Contact tips worn oval; stick-out in the program {mm:8-10} mm.",
            "Wire feed speed drops at the end of the weld before the arc stops.",
        ],
        "work": [
            "Replaced the contact tip and set a tip change interval. Set the stick-out to 15 mm in the "
            "program. Made test welds.",
            "Adjusted the burn-back time in the weld schedule. Checked the feeder motor brake. Made test "
            "welds.",
        ],
        "cause": [
            "Worn tips and a short stick-out.",
            "Burn-back setting wrong for the wire.",
        ],
    },
    {
        "machine": "MIG welding cell",
        "hours": (1.0, 2.5),
        "problem": [
            "Torch overheats and the cooler alarm stops the robot.",
            "Water cooler flow alarm on the welding power source.",
        ],
        "found": [
            "Coolant level low; return line filter blocked.",
            "Coolant pump running but flow {lpm:0.5-0.8} l/min; hose kinked in the dress pack.",
        ],
        "work": [
            "Cleaned the return filter. Topped up with the specified coolant. Bled the circuit and checked "
            "the flow at the torch.",
            "Rerouted the hose in the dress pack and replaced the kinked section. Checked the flow and the "
            "torch temperature after 30 min of welding.",
        ],
        "cause": [
            "Coolant not topped up at the weekly check.",
            "Hose kinked during a dress pack change.",
        ],
    },
    # --------------------------------------------------------------------------- centrifugal pump
    {
        "machine": "centrifugal pump",
        "hours": (2.0, 5.0),
        "problem": [
            "Mechanical seal leaking, water dripping from the pump.",
            "Pump leaking at the shaft, about {drops:20-60} drops per minute.",
        ],
        "found": [
            "Mechanical seal faces cracked; signs of dry running.",
            "Seal elastomer swollen; wrong material for the fluid.",
        ],
        "work": [
            "Isolated and drained the pump. Replaced the mechanical seal. Checked the shaft for wear. Vented "
            "the pump before start-up. Checked for leaks under pressure.",
            "Replaced the seal with one with elastomers suitable for the fluid. Updated the spare parts "
            "list. Checked for leaks.",
        ],
        "cause": [
            "Pump ran dry when the tank level was low.",
            "Wrong seal material fitted at the last repair.",
        ],
    },
    {
        "machine": "centrifugal pump",
        "hours": (1.0, 4.0),
        "problem": [
            "Pump delivers less flow, pressure at the outlet {bar:1.8-2.5} bar instead of 3.5.",
            "Low flow and a gravel-like noise from the pump.",
        ],
        "found": [
            "Suction strainer blocked; cavitation noise.",
            "Impeller worn; wear ring clearance too large.",
        ],
        "work": [
            "Cleaned the suction strainer. Checked the suction pressure. Ran the pump and checked the "
            "outlet pressure.",
            "Replaced the impeller and the wear rings. Checked the clearance. Tested the flow.",
        ],
        "cause": [
            "Debris in the suction line causing cavitation.",
            "Impeller and wear ring erosion.",
        ],
    },
    {
        "machine": "centrifugal pump",
        "hours": (1.5, 4.0),
        "problem": [
            "Pump and motor vibrating, noise from the coupling.",
            "Vibration on the pump set, bearing housing warm.",
        ],
        "found": [
            "Shaft misalignment {mm:0.2-0.4} mm at the coupling; coupling insert worn.",
            "Motor drive end bearing rough.",
        ],
        "work": [
            "Replaced the coupling insert. Aligned pump and motor with the laser alignment tool. Measured "
            "the "
            "vibration after start-up.",
            "Replaced the motor bearings. Aligned the shaft. Measured the vibration.",
        ],
        "cause": [
            "Misalignment after the base frame bolts loosened.",
            "Bearing wear.",
        ],
    },
    {
        "machine": "centrifugal pump",
        "hours": (1.0, 3.0),
        "problem": [
            "Pump motor trips the overload a few minutes after starting.",
            "Overload trips on the pump motor, pump is hot.",
        ],
        "found": [
            "Impeller partly clogged with rags; motor current high.",
            "Discharge valve fully open and the pump running far right on its curve.",
        ],
        "work": [
            "Isolated the pump. Opened the casing and cleared the impeller. Checked the current after "
            "start-up.",
            "Throttled the discharge valve to the duty point. Checked the current and the pressure.",
        ],
        "cause": [
            "Rags in the fluid.",
            "Operating point outside the pump curve.",
        ],
    },
]
