"""Authored Italian tickets (from the Italian plant) with their English translations.

Each ticket gives ``(italian, english)`` for every free-text field; the machine type comes from the
shared asset register and is in English. ``hours`` is written as the Italian export has it, with a
decimal comma. ``make_tickets.py`` puts the Italian text into the tickets and the pairs into the
translation memory (``translations_it_en.jsonl``) that the offline ``lookup`` teacher replays.
"""

from __future__ import annotations

TICKETS_IT: list[dict] = [
    {
        "machine": "CNC lathe",
        "hours": "5,5",
        "problem": (
            "Vibrazioni del mandrino sopra i 2500 giri, la finitura dei pezzi non è più in tolleranza.",
            "Spindle vibration above 2500 rpm, the surface finish of the parts is no longer in tolerance.",
        ),
        "found": (
            "Eccentricità sul naso del mandrino di 0,02 mm e rumore dal cuscinetto anteriore.",
            "Runout at the spindle nose of 0.02 mm and noise from the front bearing.",
        ),
        "work": (
            "Sostituiti i cuscinetti anteriori del mandrino. Regolato il precarico con il kit di "
            "distanziali. "
            "Eseguito il ciclo di riscaldamento per 30 minuti. Fatto un pezzo di prova con la rugosità in "
            "tolleranza.",
            "Replaced the front spindle bearings. Set the preload with the spacer kit. Ran the warm-up cycle "
            "for 30 minutes. Made a test part with the roughness in tolerance.",
        ),
        "cause": (
            "Usura dei cuscinetti del mandrino per lubrificazione insufficiente.",
            "Wear of the spindle bearings from insufficient lubrication.",
        ),
    },
    {
        "machine": "CNC lathe",
        "hours": "1,5",
        "problem": (
            "La torretta non si blocca dopo il cambio utensile e la macchina va in allarme.",
            "The turret does not clamp after the tool change and the machine goes into alarm.",
        ),
        "found": (
            "Il sensore di bloccaggio della torretta era coperto di trucioli e di emulsione.",
            "The turret clamp sensor was covered in chips and coolant.",
        ),
        "work": (
            "Pulito il sensore e la sua camma. Regolata la distanza del sensore a 0,8 mm. Eseguiti venti "
            "cambi "
            "utensile senza allarmi.",
            "Cleaned the sensor and its cam. Set the sensor gap to 0.8 mm. Did twenty tool changes without "
            "alarms.",
        ),
        "cause": (
            "Accumulo di trucioli dietro la protezione della torretta.",
            "Chip build-up behind the turret guard.",
        ),
    },
    {
        "machine": "CNC machining centre",
        "hours": "2",
        "problem": (
            "Il mandrino non rilascia l'utensile e il cambio utensile va in allarme.",
            "The spindle does not release the tool and the tool change goes into alarm.",
        ),
        "found": (
            "La pressione dell'aria al cilindro di sbloccaggio era di 4,5 bar invece di 6 bar.",
            "The air pressure at the unclamp cylinder was 4.5 bar instead of 6 bar.",
        ),
        "work": (
            "Sostituite le guarnizioni del cilindro di sbloccaggio. Pulito il filtro regolatore e scaricata "
            "la condensa. Verificato lo sbloccaggio con trenta cambi utensile.",
            "Replaced the seals of the unclamp cylinder. Cleaned the filter regulator and drained the "
            "condensate. Checked the unclamping with thirty tool changes.",
        ),
        "cause": (
            "Guarnizioni del cilindro usurate con perdita d'aria.",
            "Worn cylinder seals leaking air.",
        ),
    },
    {
        "machine": "CNC machining centre",
        "hours": "3,5",
        "problem": (
            "Allarme di sovratemperatura del mandrino dopo circa un'ora di lavoro.",
            "Spindle overtemperature alarm after about an hour of work.",
        ),
        "found": (
            "Il refrigeratore dell'olio del mandrino aveva il filtro dell'aria intasato e il livello basso.",
            "The spindle oil chiller had a clogged air filter and a low level.",
        ),
        "work": (
            "Pulito il condensatore con aria compressa. Sostituito il filtro dell'aria del refrigeratore. "
            "Rabboccato l'olio. Controllata la temperatura del mandrino per un'ora a 10000 giri.",
            "Cleaned the condenser with compressed air. Replaced the chiller air filter. Topped up the oil. "
            "Checked the spindle temperature for an hour at 10000 rpm.",
        ),
        "cause": (
            "Il filtro del refrigeratore non era nel piano di manutenzione.",
            "The chiller filter was not in the maintenance plan.",
        ),
    },
    {
        "machine": "hydraulic press",
        "hours": "4,5",
        "problem": (
            "Lo slittone scende da solo quando la pressa è ferma in alto.",
            "The slide goes down by itself when the press is stopped at the top.",
        ),
        "found": (
            "La valvola di bilanciamento perdeva internamente e la pressione nel cilindro calava in pochi "
            "minuti.",
            "The counterbalance valve was leaking internally and the pressure in the cylinder dropped in a "
            "few minutes.",
        ),
        "work": (
            "Messa in sicurezza la pressa con i blocchi di sicurezza. Sostituita la cartuccia della valvola "
            "di bilanciamento. Tarata la pressione di bilanciamento. Verificata la deriva per dieci minuti.",
            "Made the press safe with the safety blocks. Replaced the counterbalance valve cartridge. Set "
            "the "
            "counterbalance pressure. Checked the drift for ten minutes.",
        ),
        "cause": (
            "Sede della valvola rigata dallo sporco nell'olio.",
            "Valve seat scored by dirt in the oil.",
        ),
    },
    {
        "machine": "hydraulic press",
        "hours": "2,5",
        "problem": (
            "La temperatura dell'olio idraulico arriva a 65 gradi nel pomeriggio e la pressa rallenta.",
            "The hydraulic oil temperature reaches 65 degrees in the afternoon and the press slows down.",
        ),
        "found": (
            "Lo scambiatore dell'olio era pieno di polvere e il ventilatore non girava.",
            "The oil cooler was full of dust and the fan was not turning.",
        ),
        "work": (
            "Pulito lo scambiatore con aria compressa e sgrassatore. Sostituito il condensatore di "
            "avviamento "
            "del motore del ventilatore. Controllata la temperatura dell'olio per un turno.",
            "Cleaned the cooler with compressed air and degreaser. Replaced the start capacitor of the fan "
            "motor. Checked the oil temperature for one shift.",
        ),
        "cause": (
            "Condensatore del ventilatore guasto e scambiatore sporco.",
            "Failed fan capacitor and dirty cooler.",
        ),
    },
    {
        "machine": "injection moulding machine",
        "hours": "1,5",
        "problem": (
            "Pezzi incompleti sulle cavità di destra, il problema è iniziato dopo il turno di notte.",
            "Incomplete parts on the right-hand cavities, the problem started after the night shift.",
        ),
        "found": (
            "La fascia riscaldante della zona 3 era interrotta e la zona restava a 200 gradi.",
            "The heater band of zone 3 was open circuit and the zone stayed at 200 degrees.",
        ),
        "work": (
            "Sostituita la fascia riscaldante della zona 3. Controllata la resistenza di tutte le fasce. "
            "Prodotti venti pezzi di prova e controllato il peso.",
            "Replaced the heater band of zone 3. Checked the resistance of all the bands. Produced twenty "
            "test parts and checked the weight.",
        ),
        "cause": (
            "Rottura della resistenza della fascia riscaldante.",
            "Failure of the heating element of the band.",
        ),
    },
    {
        "machine": "injection moulding machine",
        "hours": "0,75",
        "problem": (
            "L'ugello gocciola e fa i fili tra uno stampaggio e l'altro.",
            "The nozzle drips and strings between one shot and the next.",
        ),
        "found": (
            "La temperatura dell'ugello era di 20 gradi più alta del valore della scheda del materiale.",
            "The nozzle temperature was 20 degrees higher than the value on the material data sheet.",
        ),
        "work": (
            "Abbassata la temperatura dell'ugello al valore della scheda. Attivata la decompressione dopo il "
            "dosaggio. Pulita la bussola di iniezione.",
            "Lowered the nozzle temperature to the data sheet value. Enabled decompression after dosing. "
            "Cleaned the sprue bushing.",
        ),
        "cause": (
            "Temperatura sbagliata nella ricetta dopo il cambio del materiale.",
            "Wrong temperature in the recipe after the material change.",
        ),
    },
    {
        "machine": "injection moulding machine",
        "hours": "6",
        "problem": (
            "Il tempo di dosaggio è passato da 6 a 12 secondi e il cuscino non è stabile.",
            "The dosing time went from 6 to 12 seconds and the cushion is not stable.",
        ),
        "found": (
            "L'anello di non ritorno sulla punta della vite era usurato.",
            "The check ring on the screw tip was worn.",
        ),
        "work": (
            "Spurgato il cilindro ed estratta la vite. Sostituiti l'anello di non ritorno e la sua sede. "
            "Misurata l'usura della vite e del cilindro, che è risultata nei limiti. Rimontato tutto e "
            "verificato il cuscino.",
            "Purged the barrel and pulled out the screw. Replaced the check ring and its seat. Measured the "
            "wear of the screw and barrel, which was within limits. Reassembled everything and checked the "
            "cushion.",
        ),
        "cause": (
            "Usura dell'anello per il materiale caricato con fibra di vetro.",
            "Wear of the ring from the glass-fibre filled material.",
        ),
    },
    {
        "machine": "screw air compressor",
        "hours": "2,5",
        "problem": (
            "Il compressore si ferma per alta temperatura nelle ore più calde della giornata.",
            "The compressor stops on high temperature in the hottest hours of the day.",
        ),
        "found": (
            "Il radiatore dell'olio era intasato di polvere e la sala compressori era a 40 gradi.",
            "The oil cooler was clogged with dust and the compressor room was at 40 degrees.",
        ),
        "work": (
            "Pulito il radiatore dall'interno verso l'esterno con aria compressa. Pulita la griglia di "
            "ventilazione della sala. Controllato il livello dell'olio. Verificata la temperatura sotto "
            "carico "
            "per due ore.",
            "Cleaned the cooler from the inside out with compressed air. Cleaned the ventilation grille of "
            "the room. Checked the oil level. Checked the temperature under load for two hours.",
        ),
        "cause": (
            "Pulizia del radiatore non eseguita alla scadenza della manutenzione.",
            "Cooler cleaning not done at the maintenance due date.",
        ),
    },
    {
        "machine": "screw air compressor",
        "hours": "3",
        "problem": (
            "C'è olio nell'aria compressa e la verniciatura segnala macchie sui pezzi.",
            "There is oil in the compressed air and the paint shop reports spots on the parts.",
        ),
        "found": (
            "Il separatore dell'olio era rotto e la differenza di pressione era di 1,2 bar.",
            "The oil separator was ruptured and the pressure difference was 1.2 bar.",
        ),
        "work": (
            "Sostituito l'elemento separatore con la sua guarnizione. Pulito il tubo di recupero dell'olio. "
            "Sostituiti gli elementi dei filtri a valle. Controllato il livello dell'olio dopo un'ora.",
            "Replaced the separator element with its gasket. Cleaned the oil return line. Replaced the "
            "elements of the downstream filters. Checked the oil level after one hour.",
        ),
        "cause": (
            "Elemento separatore oltre la sua durata di servizio.",
            "Separator element beyond its service life.",
        ),
    },
    {
        "machine": "belt conveyor",
        "hours": "2",
        "problem": (
            "Il nastro scarta verso sinistra e sfrega contro il telaio.",
            "The belt runs off to the left and rubs against the frame.",
        ),
        "found": (
            "Il tamburo di coda era coperto di materiale incrostato e il raschiatore era consumato.",
            "The tail pulley was covered with caked material and the scraper was worn.",
        ),
        "work": (
            "Pulito il tamburo di coda. Sostituita la lama del raschiatore. Regolato il tenditore in modo "
            "uniforme sui due lati. Controllato l'allineamento del nastro sotto carico per mezz'ora.",
            "Cleaned the tail pulley. Replaced the scraper blade. Adjusted the take-up evenly on both sides. "
            "Checked the belt tracking under load for half an hour.",
        ),
        "cause": (
            "Il raschiatore usurato lasciava attaccare il prodotto al tamburo.",
            "The worn scraper let the product stick to the pulley.",
        ),
    },
    {
        "machine": "belt conveyor",
        "hours": "3,5",
        "problem": (
            "Il riduttore del nastro è rumoroso e molto caldo al tatto.",
            "The belt gearbox is noisy and very hot to the touch.",
        ),
        "found": (
            "Il livello dell'olio del riduttore era basso e il cuscinetto dell'albero di uscita era "
            "rovinato.",
            "The gearbox oil level was low and the output shaft bearing was damaged.",
        ),
        "work": (
            "Svuotato e lavato il riduttore. Sostituiti il cuscinetto e la tenuta dell'albero di uscita. "
            "Riempito con l'olio previsto. Controllata la temperatura dopo due ore di funzionamento.",
            "Drained and flushed the gearbox. Replaced the bearing and the seal of the output shaft. Filled "
            "with the specified oil. Checked the temperature after two hours of running.",
        ),
        "cause": (
            "La perdita dalla tenuta ha abbassato il livello dell'olio e ha danneggiato il cuscinetto.",
            "The leak from the seal lowered the oil level and damaged the bearing.",
        ),
    },
    {
        "machine": "electric forklift",
        "hours": "2",
        "problem": (
            "La batteria del carrello si scarica dopo tre ore invece di durare tutto il turno.",
            "The truck battery runs flat after three hours instead of lasting the whole shift.",
        ),
        "found": (
            "Il livello dell'elettrolito era sotto le piastre in diversi elementi e due elementi avevano la "
            "densità bassa.",
            "The electrolyte level was below the plates in several cells and two cells had a low specific "
            "gravity.",
        ),
        "work": (
            "Rabboccati tutti gli elementi con acqua demineralizzata. Eseguita una carica di equalizzazione. "
            "Misurata la densità di ogni elemento. Sostituiti i due elementi deboli.",
            "Topped up all the cells with demineralised water. Did an equalising charge. Measured the "
            "specific gravity of every cell. Replaced the two weak cells.",
        ),
        "cause": (
            "Il rabbocco della batteria non veniva fatto ogni settimana.",
            "The battery was not being topped up every week.",
        ),
    },
    {
        "machine": "electric forklift",
        "hours": "1,5",
        "problem": (
            "Il carrello frena poco e sulla rampa scivola indietro.",
            "The truck brakes poorly and rolls back on the ramp.",
        ),
        "found": (
            "Le ganasce del freno della ruota sinistra erano consumate fino ai rivetti.",
            "The brake shoes of the left wheel were worn down to the rivets.",
        ),
        "work": (
            "Sostituite le ganasce dei freni su entrambe le ruote motrici. Rettificato il tamburo rigato. "
            "Regolati i freni e provato il carrello carico sulla rampa.",
            "Replaced the brake shoes on both drive wheels. Skimmed the scored drum. Adjusted the brakes and "
            "tested the loaded truck on the ramp.",
        ),
        "cause": (
            "Usura delle ganasce e controllo dei freni scaduto.",
            "Wear of the shoes and an overdue brake check.",
        ),
    },
    {
        "machine": "flow-wrap packaging machine",
        "hours": "1",
        "problem": (
            "Il taglio non cade sulla tacca di stampa e il logo viene tagliato a metà.",
            "The cut does not fall on the print mark and the logo is cut in half.",
        ),
        "found": (
            "La fotocellula di registro era sporca di polvere del film e il contrasto era impostato male.",
            "The registration photo-eye was dirty with film dust and the contrast was set wrongly.",
        ),
        "work": (
            "Pulita la fotocellula di registro. Riappresa la tacca e lo sfondo. Controllata la finestra di "
            "correzione sul pannello. Prodotte trecento confezioni con la tacca in posizione.",
            "Cleaned the registration photo-eye. Taught the mark and the background again. Checked the "
            "correction window on the panel. Produced three hundred packs with the mark in position.",
        ),
        "cause": (
            "Polvere del film sulla fotocellula.",
            "Film dust on the photo-eye.",
        ),
    },
    {
        "machine": "flow-wrap packaging machine",
        "hours": "1,75",
        "problem": (
            "Le saldature di testa non tengono e le confezioni sono aperte da un lato.",
            "The end seals do not hold and the packs are open on one side.",
        ),
        "found": (
            "Una cartuccia riscaldante della ganascia superiore era interrotta e la ganascia era a 110 "
            "gradi.",
            "One heater cartridge of the upper jaw was open circuit and the jaw was at 110 degrees.",
        ),
        "work": (
            "Sostituita la cartuccia riscaldante della ganascia superiore. Controllata la temperatura della "
            "ganascia con una sonda a contatto. Verificata la tenuta delle confezioni con la prova in acqua.",
            "Replaced the heater cartridge of the upper jaw. Checked the jaw temperature with a contact "
            "probe. Checked the seal of the packs with the water test.",
        ),
        "cause": (
            "Guasto della cartuccia riscaldante.",
            "Failure of the heater cartridge.",
        ),
    },
    {
        "machine": "industrial robot",
        "hours": "3",
        "problem": (
            "Dopo la collisione della settimana scorsa il robot sbaglia la presa di qualche millimetro.",
            "Since last week's collision the robot misses the pick by a few millimetres.",
        ),
        "found": (
            "La staffa della pinza era piegata e il punto utensile era spostato.",
            "The gripper bracket was bent and the tool centre point had shifted.",
        ),
        "work": (
            "Sostituita la staffa piegata della pinza. Riappreso il punto utensile con il metodo dei quattro "
            "punti. Controllati tutti i punti del programma. Eseguiti trenta cicli a velocità di produzione.",
            "Replaced the bent gripper bracket. Taught the tool centre point again with the four-point "
            "method. Checked all the points of the program. Ran thirty cycles at production speed.",
        ),
        "cause": (
            "La collisione con l'attrezzatura durante il movimento manuale ha piegato la staffa.",
            "The collision with the fixture during manual jogging bent the bracket.",
        ),
    },
    {
        "machine": "industrial robot",
        "hours": "1",
        "problem": (
            "Il robot perde i pezzi perché la pinza a ventosa non tiene.",
            "The robot drops the parts because the vacuum gripper does not hold.",
        ),
        "found": (
            "Due ventose erano rotte sul bordo e il vuoto era solo di 40 kPa.",
            "Two suction cups were torn at the edge and the vacuum was only 40 kPa.",
        ),
        "work": (
            "Sostituite tutte le ventose. Controllati i tubi del vuoto e sostituito un tubo spaccato. "
            "Verificato il livello del vuoto con un pezzo.",
            "Replaced all the suction cups. Checked the vacuum hoses and replaced a split hose. Checked the "
            "vacuum level with a part.",
        ),
        "cause": (
            "Usura delle ventose per i pezzi con spigoli vivi.",
            "Wear of the suction cups from parts with sharp edges.",
        ),
    },
    {
        "machine": "overhead crane",
        "hours": "2",
        "problem": (
            "Il carico scende di qualche centimetro dopo che si rilascia il pulsante di sollevamento.",
            "The load comes down a few centimetres after the hoist button is released.",
        ),
        "found": (
            "Il traferro del freno del sollevamento era di 1,2 mm invece di 0,4 mm.",
            "The air gap of the hoist brake was 1.2 mm instead of 0.4 mm.",
        ),
        "work": (
            "Messo fuori servizio il carroponte e bloccato l'interruttore generale. Regolato il traferro del "
            "freno a 0,4 mm. Misurato lo spessore delle guarnizioni. Eseguita la prova con il carico "
            "nominale.",
            "Took the crane out of service and locked the main switch. Set the brake air gap to 0.4 mm. "
            "Measured the thickness of the linings. Did the test with the rated load.",
        ),
        "cause": (
            "Usura normale delle guarnizioni e traferro non controllato all'ispezione trimestrale.",
            "Normal wear of the linings and an air gap not checked at the quarterly inspection.",
        ),
    },
    {
        "machine": "band saw",
        "hours": "1",
        "problem": (
            "I tagli non sono in squadra e la lama devia nel materiale pieno.",
            "The cuts are not square and the blade wanders in solid material.",
        ),
        "found": (
            "La tensione della lama era molto più bassa del valore consigliato.",
            "The blade tension was much lower than the recommended value.",
        ),
        "work": (
            "Regolata la tensione della lama con il tensiometro. Avvicinato il braccio guida al pezzo. Fatto "
            "un taglio di prova e controllato con la squadra.",
            "Set the blade tension with the tension gauge. Moved the guide arm close to the part. Made a "
            "test "
            "cut and checked it with the square.",
        ),
        "cause": (
            "La tensione non è stata regolata dopo il cambio della lama.",
            "The tension was not set after the blade change.",
        ),
    },
    {
        "machine": "fibre laser cutter",
        "hours": "1,25",
        "problem": (
            "Bava sul bordo inferiore dei pezzi in acciaio inox, i pezzi vanno sbavati a mano.",
            "Dross on the bottom edge of the stainless steel parts, the parts have to be deburred by hand.",
        ),
        "found": (
            "Il vetro di protezione aveva bruciature da spruzzi e l'ugello era ovalizzato.",
            "The protective window had spatter burns and the nozzle was out of round.",
        ),
        "work": (
            "Sostituito il vetro di protezione con i guanti. Sostituito l'ugello. Centrato il raggio con la "
            "prova del nastro. Fatti dei tagli di prova su uno sfrido.",
            "Replaced the protective window wearing gloves. Replaced the nozzle. Centred the beam with the "
            "tape test. Made test cuts on a scrap piece.",
        ),
        "cause": (
            "Accumulo di spruzzi durante lo sfondamento della lamiera spessa.",
            "Spatter build-up while piercing the thick plate.",
        ),
    },
    {
        "machine": "press brake",
        "hours": "2,5",
        "problem": (
            "L'angolo di piega cambia lungo il pezzo ed è più aperto al centro.",
            "The bend angle changes along the part and is more open in the middle.",
        ),
        "found": (
            "La bombatura era stata messa in manuale e impostata a zero.",
            "The crowning had been set to manual and set to zero.",
        ),
        "work": (
            "Rimessa la bombatura in automatico. Controllati i valori di bombatura sul controllo. Piegato un "
            "pezzo di prova lungo due metri e misurato l'angolo in cinque punti.",
            "Set the crowning back to automatic. Checked the crowning values on the control. Bent a test "
            "part "
            "two metres long and measured the angle at five points.",
        ),
        "cause": (
            "La bombatura è stata lasciata in manuale dopo una lavorazione.",
            "The crowning was left in manual after a job.",
        ),
    },
    {
        "machine": "process chiller",
        "hours": "1,5",
        "problem": (
            "Il refrigeratore va in blocco per alta pressione nelle giornate calde.",
            "The chiller locks out on high pressure on hot days.",
        ),
        "found": (
            "La batteria del condensatore era intasata di polvere e di semi di pioppo.",
            "The condenser coil was clogged with dust and poplar seeds.",
        ),
        "work": (
            "Messo in sicurezza il refrigeratore. Pulita la batteria del condensatore con una spazzola e "
            "acqua "
            "a bassa pressione. Controllati i ventilatori. Misurata la pressione di condensazione sotto "
            "carico.",
            "Made the chiller safe. Cleaned the condenser coil with a brush and low-pressure water. Checked "
            "the fans. Measured the condensing pressure under load.",
        ),
        "cause": (
            "Batteria del condensatore sporca.",
            "Dirty condenser coil.",
        ),
    },
    {
        "machine": "plastics extruder",
        "hours": "1,25",
        "problem": (
            "La pressione del fuso oscilla e lo spessore del prodotto non è costante.",
            "The melt pressure fluctuates and the product thickness is not constant.",
        ),
        "found": (
            "Il pacco filtri era intasato e la pressione prima del filtro era alta.",
            "The screen pack was clogged and the pressure before the screen was high.",
        ),
        "work": (
            "Cambiato il pacco filtri con il cambiafiltro. Controllato l'andamento della pressione del fuso. "
            "Riportata la velocità della vite al valore della ricetta.",
            "Changed the screen pack with the screen changer. Checked the melt pressure trend. Set the screw "
            "speed back to the recipe value.",
        ),
        "cause": (
            "Contaminazione nel macinato.",
            "Contamination in the regrind.",
        ),
    },
    {
        "machine": "MIG welding cell",
        "hours": "0,5",
        "problem": (
            "Le saldature sono piene di porosità da questa mattina.",
            "The welds have been full of porosity since this morning.",
        ),
        "found": (
            "La portata del gas all'ugello era di 7 litri al minuto e il raccordo del gas perdeva.",
            "The gas flow at the nozzle was 7 litres per minute and the gas connection was leaking.",
        ),
        "work": (
            "Sostituito il raccordo del gas con la sua guarnizione. Regolata la portata a 15 litri al "
            "minuto. "
            "Fatte delle saldature di prova e tagliata una sezione.",
            "Replaced the gas connection with its seal. Set the flow to 15 litres per minute. Made test "
            "welds "
            "and cut a section.",
        ),
        "cause": (
            "Il raccordo del gas che perdeva aspirava aria nella protezione.",
            "The leaking gas connection drew air into the shielding.",
        ),
    },
    {
        "machine": "centrifugal pump",
        "hours": "3",
        "problem": (
            "La tenuta meccanica della pompa perde e c'è acqua sul pavimento.",
            "The mechanical seal of the pump is leaking and there is water on the floor.",
        ),
        "found": (
            "Le facce della tenuta erano crepate con segni di funzionamento a secco.",
            "The seal faces were cracked with signs of dry running.",
        ),
        "work": (
            "Isolata e svuotata la pompa. Sostituita la tenuta meccanica. Controllato l'albero per l'usura. "
            "Sfiatata la pompa prima dell'avviamento e verificato che non ci fossero perdite.",
            "Isolated and drained the pump. Replaced the mechanical seal. Checked the shaft for wear. Vented "
            "the pump before start-up and checked that there were no leaks.",
        ),
        "cause": (
            "La pompa ha girato a secco con il livello della vasca basso.",
            "The pump ran dry with the tank level low.",
        ),
    },
    {
        "machine": "palletizer",
        "hours": "1,5",
        "problem": (
            "Le scatole cadono dallo strato prima che arrivi sul pallet.",
            "The boxes fall off the layer before it reaches the pallet.",
        ),
        "found": (
            "I pattini di usura dello spintore erano consumati e la barra era più bassa da un lato.",
            "The wear strips of the pusher were worn and the bar was lower on one side.",
        ),
        "work": (
            "Sostituiti i pattini di usura dello spintore. Messa in piano la barra. Controllato il profilo "
            "di "
            "velocità sul pannello. Prodotti tre pallet completi.",
            "Replaced the wear strips of the pusher. Levelled the bar. Checked the speed profile on the "
            "panel. Produced three complete pallets.",
        ),
        "cause": (
            "I pattini consumati lasciavano inclinare la barra dello spintore.",
            "The worn strips let the pusher bar tilt.",
        ),
    },
]
